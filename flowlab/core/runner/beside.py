"""A branch beside its original: the answers to the same step, and what the server
said, its OAuth error code explained from ``content/errors.toml`` (RFC 6749
§4.1.2.1, §5.2; RFC 6750 §3; RFC 7636 §4.4.1, §4.6; RFC 8628 §3.5).
"""

from __future__ import annotations

import json
import re

from flowlab.core.http import Message
from flowlab.core.runner.records import StepRecord

CHALLENGE = re.compile(r'\berror="([^"]*)"')


def answer(records: list[StepRecord], number: int,
           channel: str) -> StepRecord | None:
    """The record holding the answer to step ``number``'s request: the step itself
    on the back channel; on the front channel, the redirect the browser brought
    back (the first later record with parameters), if it came."""
    if channel == "back":
        return records[number - 1] if len(records) >= number else None
    return next((r for r in records[number:] if "params" in r.data), None)


def code_of(message: Message) -> str | None:
    """The OAuth error code of a response: its JSON ``error`` (RFC 6749 §5.2), else
    the ``error`` of its ``WWW-Authenticate`` challenge (RFC 6750 §3)."""
    try:
        found = json.loads(message.text).get("error")
    except (ValueError, AttributeError):
        found = None
    if isinstance(found, str):
        return found
    challenge = CHALLENGE.search(message.header("WWW-Authenticate") or "")
    return challenge.group(1) if challenge else None


def said(record: StepRecord | None, errors: dict) -> dict | None:
    """What the server answered: the status line (or "a redirect"), the error code
    and its explanation, the challenge header; None when no answer came."""
    if record is None:
        return None
    params = dict(record.data.get("params", []))
    responses = [e["response"] for e in record.exchanges if e.get("response")]
    if "params" in record.data:
        status, code, challenge = "a redirect back", params.get("error"), None
        description = params.get("error_description")
    elif responses:
        message = Message.from_json(responses[-1])
        start = message.start
        status = f"{start.status} {start.reason}".strip()
        code, challenge = code_of(message), message.header("WWW-Authenticate")
        try:
            description = json.loads(message.text).get("error_description")
        except (ValueError, AttributeError):
            description = None
    else:
        return {"status": "no answer", "code": None, "entry": None,
                "challenge": None, "description": record.error}
    return {"status": status, "code": code, "entry": errors.get(code or ""),
            "challenge": challenge, "description": description}
