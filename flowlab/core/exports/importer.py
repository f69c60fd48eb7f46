"""A run's JSON export read back: checked, whole or not at all, never a secret.

``read`` takes the bytes of a file a learner uploads and returns an ``Imported``
run, or raises ``Refused`` (``TooBig`` when over the limit) with a sentence that
names what was wrong: not JSON, not a run export, another version, a shape that is
not the export's (``shapes.EXPORT``: unknown keys, wrong types, strings too long), a
flow or provider this lab does not know, steps that are not that flow's.

Secrets (RFC 6749 §10.3-§10.5): an export keeps them masked unless the learner asked
for them on the sandbox (``"secrets": "included"``). Such a file is refused, and so
is any file where a value that ``redact`` would mask (a credential's field, a Basic
or Bearer credential, a JWT, a token-shaped value in a message) is still in clear:
nothing is imported in clear, and the refusal never repeats the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from flowlab.core.exports import shapes
from flowlab.core.exports.shapes import Refused
from flowlab.core.provider import Provider
from flowlab.core.redact import CREDENTIAL
from flowlab.core.redact import JWT
from flowlab.core.redact import SAFE_FIELDS
from flowlab.core.redact import SECRET_ENDINGS
from flowlab.core.redact import SECRET_FIELDS
from flowlab.core.redact import SHORTEST
from flowlab.core.redact import masked
from flowlab.core.redact import message_secrets
from flowlab.core.redact import secret_field
from flowlab.core.runner.records import StepRecord

FORMAT = "flowlab-run"
VERSION = 1
# HTTP/1 start lines (a target may hold a mask, abcd…wxyz).
REQUEST = re.compile(r"[A-Z]{1,20} [^\s\x00-\x1f\x7f]{1,8000} HTTP/[0-9.]{1,3}")
RESPONSE = re.compile(r"HTTP/[0-9.]{1,3} [0-9]{3}(?: [^\x00-\x1f\x7f]{0,200})?")

__all__ = ["Imported", "Refused", "TooBig", "read", "size_of"]


class TooBig(Refused):
    """The file is larger than the import takes."""


@dataclass(frozen=True)
class Imported:
    """What a run keeps of its export: its flow, provider, options and steps, and
    where it came from (the original run's id, status and start)."""

    flow: str
    provider: Provider
    options: dict
    status: str
    steps: list[StepRecord]
    origin: dict


def read(raw: bytes, flows: Mapping, limit: int) -> Imported:
    """The run in ``raw``, an export of one of ``flows`` (by id), checked."""
    if len(raw) > limit:
        raise TooBig(f"The file is too big: an import takes at most "
                     f"{size_of(limit)}.")
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refused("The file is not JSON: it is not even UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise Refused(f"The file is not JSON: {error.msg} at line {error.lineno}, "
                      f"column {error.colno}.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Refused(f'The file is JSON, but not a run export of this lab: it has '
                      f'no "format": "{FORMAT}". Download one with "JSON" under '
                      f'"Take it away" on a run\'s page.')
    if document.get("version") != VERSION:
        raise Refused(f"The file is a run export of version "
                      f"{str(document.get('version'))[:20]}; this lab reads version "
                      f"{VERSION} only.")
    if document.get("secrets") == "included":
        raise Refused("The file holds the run's secrets and tokens in clear "
                      '("secrets": "included"), and nothing is imported in clear. '
                      "Download its JSON again without secrets, then import that.")
    document = shapes.check(document, shapes.EXPORT, "the file")
    flow = flows.get(document["flow"]["id"])
    if flow is None:
        raise Refused(f"The file is a run of the flow "
                      f"“{document['flow']['id']}”, which this lab does not have.")
    provider = Provider.from_json(document["provider"])
    options = document.get("options") or {}
    steps = _steps(document["steps"], flow.with_options(options)
                   .for_provider(provider))
    _no_clear_secret(steps)
    run = document["run"]
    status = "finished" if run.get("status") == "finished" else "stopped"
    return Imported(flow.id, provider, options, status, steps,
                    {"run": run["id"], "status": run.get("status", ""),
                     "created": run.get("created", ""),
                     "provider": provider.name or provider.kind})


def _steps(steps: list[dict], flow) -> list[StepRecord]:
    """The records of the file's steps, which must be the flow's, in its order."""
    if len(steps) > len(flow.steps):
        raise Refused(f"The file has {len(steps)} steps; the flow “{flow.name}” has "
                      f"{len(flow.steps)}.")
    records = []
    for n, (step, known) in enumerate(zip(steps, flow.steps, strict=False), 1):
        if step["id"] != known["id"] or step.get("number", n) != n:
            raise Refused(f"Step {n} of the file is “{step['id'][:40]}”, but step "
                          f"{n} of the flow “{flow.name}” is “{known['id']}”.")
        for exchange in step["exchanges"]:
            _wire(exchange["request"], REQUEST, n)
            _wire(exchange.get("response"), RESPONSE, n)
        records.append(StepRecord(
            id=step["id"], status=step["status"], exchanges=tuple(step["exchanges"]),
            data=step.get("data") or {}, error=step.get("error")))
    return records


def _wire(message: dict | None, start: re.Pattern, n: int) -> None:
    """A message as the runner captures it: an HTTP/1 start line (RFC 9112 §3,
    §4), a body that is text or well-formed base64."""
    if message is None:
        return
    if not start.fullmatch(message["start_line"]):
        raise Refused(f"Step {n} of the file has a message whose first line is not "
                      'HTTP/1, such as "GET /path HTTP/1.1" or "HTTP/1.1 200 OK".')
    try:
        if message.get("body_encoding") == "base64":
            base64.b64decode(message.get("body", ""), validate=True)
    except binascii.Error:
        raise Refused(f"Step {n} of the file has a message body that says base64 "
                      "but is not.") from None


def _no_clear_secret(records: list[StepRecord]) -> None:
    """Refuse a value in clear wherever ``redact`` masks one (see the module)."""
    for n, record in enumerate(records, 1):
        found = _data_secrets(record.data) + [
            v for k, v in record.data.get("params", []) if secret_field(k, v)]
        for exchange in record.exchanges:
            for message in (exchange["request"], exchange.get("response")):
                found += message_secrets(message) if message else []
        found += [v for text in _strings(record.to_json()) for v in _shaped(text)]
        if any(len(v) >= SHORTEST and not masked(v) for v in found):
            raise Refused(f"Step {n} of the file holds a secret or token in clear, "
                          "where an export masks it (abcd…wxyz). Nothing is imported "
                          "in clear: download the run's JSON again, masked, and "
                          "import that.")


def _data_secrets(value, name: str = "") -> list[str]:
    """The strings of a step's data under a credential's name (not by shape: a
    SHA-256 in hex is no secret)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _data_secrets(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _data_secrets(v, name)]
    leaf = name.lower()
    if isinstance(value, str) and leaf not in SAFE_FIELDS and (
            leaf in SECRET_FIELDS or leaf.endswith(SECRET_ENDINGS)):
        return [value]
    return []


def _strings(value) -> list[str]:
    """Every string in a step, keys included, as it reads (not JSON-escaped: a
    challenge's ``resource_metadata="…"`` is a parameter, not a credential)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _shaped(text: str) -> list[str]:
    """JWTs and Basic or Bearer credentials anywhere in ``text``."""
    return [m.group() for m in JWT.finditer(text)] + [
        m.group(1) for m in CREDENTIAL.finditer(text)]


def size_of(limit: int) -> str:
    """A byte count as people say it: "1 MB", or in bytes."""
    return f"{limit // 1048576} MB" if limit % 1048576 == 0 else f"{limit} bytes"
