"""Reading a lab run's captured messages, for its verdict: a verdict follows from
what went over the wire, never from the step a learner reached (RFC 6749 §4.1.2,
§5.1, §5.2; RFC 6750 §2.1)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flowlab.labs.store import Entry
from flowlab.labs.store import Run


def status(entry: Entry) -> int | None:
    """The answer's status code; None when no answer came back."""
    answer = entry.exchange.response
    return answer.start.status if answer is not None else None


def answer(entry: Entry) -> dict:
    """The answer's JSON object, or an empty one."""
    body = entry.exchange.response
    try:
        data = json.loads(body.text) if body is not None and body.body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _single(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query).items()}


def query(entry: Entry) -> dict[str, str]:
    """The parameters in the request line's query (a front-channel message)."""
    return _single(urlsplit(entry.exchange.request.start.target).query)


def form(entry: Entry) -> dict[str, str]:
    """The parameters of a form-encoded request body (a token request)."""
    return _single(entry.exchange.request.text)


def location(entry: Entry) -> dict[str, str]:
    """The query parameters of the answer's ``Location`` (a redirect)."""
    answer = entry.exchange.response
    where = answer.header("Location") if answer is not None else None
    return _single(urlsplit(where or "").query)


def refused(entry: Entry, error: str = "invalid_grant") -> bool:
    """A 400 with ``error`` (RFC 6749 §5.2), not for an expired code or token:
    an expiry refuses a request whatever the defence."""
    found = answer(entry)
    return (status(entry) == 400 and found.get("error") == error
            and "expired" not in str(found.get("error_description", "")).lower())


def account(run: Run, token: Entry, key: str = "me") -> str | None:
    """Whose account the access token of a ``token`` answer read at the API (the
    ``key`` messages sent with that very token), if any did."""
    issued = answer(token).get("access_token") if status(token) == 200 else None
    for call in run.entries(key):
        sent = call.exchange.request.header("Authorization") or ""
        if issued and sent == f"Bearer {issued}" and status(call) == 200:
            return answer(call).get("id")
    return None


def since(run: Run, first: Entry) -> list[Entry]:
    """The messages captured after ``first``, in order."""
    index = next(i for i, entry in enumerate(run.trace) if entry is first)
    return run.trace[index + 1:]
