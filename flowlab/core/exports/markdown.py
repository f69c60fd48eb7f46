"""The Markdown handout: steps, messages and their annotations."""

from __future__ import annotations

import re

from flowlab.core.exports._common import _exchanges
from flowlab.core.exports._common import _iso
from flowlab.core.exports._common import _steps
from flowlab.core.exports._common import published
from flowlab.core.exports._common import secure
from flowlab.core.exports.escape import md_code
from flowlab.core.exports.escape import md_fence
from flowlab.core.exports.escape import md_text
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.publicurl import Addresses
from flowlab.core.publicurl import addresses
from flowlab.core.redact import Redactor
from flowlab.core.runner.present import annotate
from flowlab.core.runner.registry import front_channel

# A Markdown link to one of the app's own pages, such as [text](/glossary#x)
APP_LINK = re.compile(r"\[([^\]]+)\]\((/[^)\s]*)\)")


def markdown(run, flow, redact: Redactor, glossary: dict | None = None,
             where: Addresses | None = None) -> str:
    """A handout: each step, what happened, its messages and their annotations."""
    where = where or addresses(run)
    run, note = published(run, where)
    redact = secure(run, redact)
    base = where.public.rstrip("/")
    lines = [f"# {md_text(flow.name)}: a run on OAuth Flow Lab", "",
             f"- Provider: {md_code(run.provider.name or '?')}",
             f"- Run: {md_code(run.id)}, started {_iso(run.created)}, "
             f"{md_text(run.status)}",
             "- Secrets and tokens: " + ("included. Keep this file private."
                                         if redact.reveal else "masked (`abcd…wxyz`)."),
             *([f"- Addresses: {md_text(note)}"] if note else []),
             "", _linked(flow.summary, base), ""]
    for number, step, record in _steps(run, flow):
        step = {**step, "explain": _linked(step.get("explain", ""), base)}
        lines += _md_step(number, step, record, glossary or {}, redact, base)
    for number, step in enumerate(flow.steps[len(run.steps):], len(run.steps) + 1):
        lines += [f"## Step {number}: {md_text(step['title'])}", "", "*Not run.*",
                  ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _linked(text: str, base: str) -> str:
    """Links to the app's own pages made absolute on its public address ``base``, so
    they work outside the app; with no address known, their text alone."""
    if not base:
        return APP_LINK.sub(r"\1", text)
    return APP_LINK.sub(lambda m: f"[{m[1]}]({base}{m[2]})", text)


def _inline(text: str, base: str) -> str:
    """``md_text`` of ``text``; its links to the app's pages stay (``_linked``)."""
    out, at = [], 0
    for link in APP_LINK.finditer(text):
        label = md_text(link[1])
        out += [md_text(text[at:link.start()]),
                f"[{label}]({base}{link[2]})" if base else label]
        at = link.end()
    return "".join([*out, md_text(text[at:])])


def _md_step(number, step, record, glossary, redact, base) -> list[str]:
    lines = [f"## Step {number}: {md_text(step['title'])}", ""]
    error = md_code(redact(record.error or "failed"))
    if record.status == "failed":
        lines += [f"**Failed:** {error}", ""]
    lines += [step.get("explain", "").strip(), ""]
    if record.error and record.status == "done":
        lines += [f"The provider answered as expected: {error}", ""]
    data = record.data
    if data.get("url"):
        lines += ["### The authorization URL", "",
                  md_fence(redact(data["url"]), "text")]
    if data.get("pkce"):
        pkce = data["pkce"]
        lines += ["### PKCE", "",
                  f"- code_verifier: {md_code(redact(pkce['verifier']))}",
                  f"- SHA-256 (hex): {md_code(pkce['sha256'])}",
                  f"- code_challenge: {md_code(pkce['challenge'])}", ""]
    if step.get("action") in front_channel() and not record.exchanges:
        lines += ["*This happened in your browser; the app saw none of it.*", ""]
    for exchange in _exchanges(record):
        lines += _md_exchange(exchange, glossary, redact, base)
    return lines


def _md_exchange(exchange: Exchange, glossary, redact, base) -> list[str]:
    lines = ["### Request", "", md_fence(redact(exchange.request.as_http()), "http")]
    lines += _md_table(exchange.request, glossary, redact, base)
    if exchange.response is None:
        why = exchange.error or exchange.note or (
            "No response recorded: this is the request the app received from your "
            "browser.")
        return [*lines, f"*{md_text(redact(why))}*", ""]
    lines += ["### Response", "", md_fence(redact(exchange.response.as_http()), "http")]
    return lines + _md_table(exchange.response, glossary, redact, base)


def _md_table(message: Message, glossary, redact, base) -> list[str]:
    notes = annotate(message, glossary, redact)
    if not notes:
        return []
    rows = ["| Where | Name | Value | Meaning |", "| --- | --- | --- | --- |"]
    for note in notes:
        term = note.term or {}
        meaning = " ".join(filter(None, [term.get("meaning"), term.get("rfc")]))
        value = note.value if len(note.value) <= 80 else note.value[:77] + "…"
        rows.append(f"| {md_text(note.where)} | {md_code(note.name, table=True)} | "
                    f"{md_code(value, table=True)} | {_inline(meaning, base)} |")
    return [*rows, ""]

