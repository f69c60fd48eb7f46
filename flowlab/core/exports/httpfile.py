"""A ``.http`` file (VS Code REST Client, JetBrains HTTP Client) that runs the flow
again: fresh state and verifier, a code pasted in, tokens taken from the answers."""

from __future__ import annotations

import secrets
import textwrap
from urllib.parse import quote_plus

from flowlab.core.exports._common import _heading
from flowlab.core.exports._common import published
from flowlab.core.exports._common import secure
from flowlab.core.exports.device import HTTP_INTRO
from flowlab.core.exports.device import http_notes
from flowlab.core.exports.device import is_request
from flowlab.core.exports.escape import http_comment
from flowlab.core.exports.escape import http_text
from flowlab.core.exports.escape import plain
from flowlab.core.exports.escape import url
from flowlab.core.exports.replay import Plan
from flowlab.core.exports.replay import Replay
from flowlab.core.exports.replay import Var
from flowlab.core.exports.replay import plan
from flowlab.core.http import s256
from flowlab.core.publicurl import Addresses
from flowlab.core.redact import Redactor
from flowlab.core.redact import mask

INTRO = (
    "Runs this flow again with fresh values: the state (and any PKCE verifier) below "
    "were made for this file, the code comes from your browser, and each request takes "
    "its token from an earlier answer. Nothing spent in the lab's run is sent again. "
    "Send the requests in order. The {{step_N.response.body.$.access_token}} "
    "references are the VS Code REST Client's; in the JetBrains HTTP Client, copy "
    "the token into a variable instead.")


def http_file(run, flow, redact: Redactor, where: Addresses | None = None) -> str:
    """The flow as a ``.http`` file, ``###`` between requests."""
    run, note = published(run, where)
    found = plan(run, flow)
    redact = secure(run, redact)
    polls = any(step.poll for step in found.steps)
    lines = [http_comment(f"OAuth Flow Lab: {_heading(run, flow)}."),
             *_comment(HTTP_INTRO if polls else INTRO)]
    lines += ["#", *_comment(note)] if note else []
    lines += ["", *_variables(found, redact.reveal)]
    fresh = _fresh(found.pkce) if not polls else {}  # a device sends no state
    lines += [f"@{name} = {value}" for name, value in fresh.items()]
    sources = {"ACCESS_TOKEN": "{{access_token}}", "REFRESH_TOKEN": "",
               "PREVIOUS_REFRESH_TOKEN": ""}
    for step in found.steps:
        if step.action == "authorize":
            address = "".join(fresh[p.name.lower()] if isinstance(p, Var) else url(p)
                              for p in step.url)
            lines += ["", http_comment(f"{step.title}: open this URL in a browser, "
                                       "log in and agree:"), http_comment(address)]
        elif step.declared.receives:
            name = "access_token" if step.declared.receives == "fragment" else "code"
            lines += [http_comment(f"{step.title}: your browser lands on the "
                                   "redirect URI."),
                      http_comment(f"Check that its state is {fresh['state']}, then "
                                   f"paste its {name} here:"), f"@{name} ="]
        else:
            lines += ["", *_request(step, sources)]
            _learn(step, sources)
    return redact("\n".join(lines).rstrip("\n") + "\n")


def _comment(text: str) -> list[str]:
    return [http_comment(line) for line in textwrap.wrap(plain(text), 84)]


def _variables(found: Plan, reveal: bool) -> list[str]:
    lines = [f"@client_id = {http_text(found.client_id)}"]
    if found.uses("CLIENT_SECRET"):
        secret = found.client_secret
        if reveal and secret:
            lines.append(f"@client_secret = {http_text(secret)}")
        else:
            shown = f" ({mask(secret)})" if secret else ""
            lines += [http_comment(f"client_secret: masked in this export{shown}, "
                                   "fill in"), "@client_secret ="]
    return lines


def _fresh(pkce: bool) -> dict[str, str]:
    """A state, and a verifier with its S256 challenge (RFC 7636 §4.1, §4.2)."""
    values = {"state": secrets.token_urlsafe(24)}
    if pkce:
        verifier = secrets.token_urlsafe(32)
        values["code_verifier"] = verifier
        values["code_challenge"] = s256(verifier)
    return values


def _learn(step: Replay, sources: dict) -> None:
    """Where later requests find the tokens: in this answer, if the lab's had them."""
    if not step.declared.issues_token or (step.expect or 200) >= 300:
        return
    answer = f"{{{{step_{step.number}.response.body.$."
    if "access_token" in step.gave:
        sources["ACCESS_TOKEN"] = answer + "access_token}}"
    if "refresh_token" in step.gave:
        sources["PREVIOUS_REFRESH_TOKEN"] = sources["REFRESH_TOKEN"]
        sources["REFRESH_TOKEN"] = answer + "refresh_token}}"


def _request(step: Replay, sources: dict) -> list[str]:
    name = "device" if is_request(step) else f"step_{step.number}"
    if is_request(step):  # later polls send its device code (RFC 8628 §3.4)
        sources["DEVICE_CODE"] = "{{device.response.body.$.device_code}}"
    lines = [f"### {http_text(step.title)}", f"# @name {name}",
             *http_notes(step, lambda text: textwrap.wrap(plain(text), 84)),
             f"{http_text(step.method)} {_text(step.url, sources, url)} HTTP/1.1"]
    if step.basic:
        lines.append("Authorization: Basic {{client_id}} {{client_secret}}")
    lines += [f"{http_text(name)}: {_text(value, sources)}"
              for name, value in step.headers]
    if step.form is not None:
        body = "&".join(f"{quote_plus(k)}={_text(v, sources, quote_plus)}"
                        for k, v in step.form)
    else:
        body = http_text(step.body)
    return [*lines, "", body] if body else lines


def _text(pieces: list, sources: dict, encode=None) -> str:
    """Literal runs through ``encode`` and ``http_text``; variables as references."""
    out, literal = [], ""
    for piece in [*pieces, None]:
        if isinstance(piece, str):
            literal += piece
            continue
        out.append(http_text(encode(literal) if encode else literal))
        literal = ""
        if piece is not None:
            out.append(sources.get(piece.name) or "{{" + piece.name.lower() + "}}")
    return "".join(out)
