"""One call of the API console: the learner's form read into a ``Call``, sent with
the run's access token in the header (RFC 6750 §2.1), captured from the wire.

The learner never types the token: the server adds it, and the captured exchange is
redacted before anything keeps it. The destination is checked by
``flowlab.core.destinations``; each call runs inside ``outbound.limits``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass

import requests

from flowlab.core import outbound
from flowlab.core.redact import Redactor
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
TOKEN_CHOICES = ("run", "none", "made-up")
LIMITS = {"path": 2000, "query": 4000, "headers": 4000, "body": 20000}
# RFC 9110 §5.1: a field name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Set by the server or by the HTTP library: the learner's would be confusing or
# unsafe (the token is inserted by the server; framing is the library's).
SERVER_HEADERS = frozenset({"authorization", "host", "content-length",
                            "transfer-encoding", "connection", "cookie"})


class FormError(ValueError):
    """A console form that cannot be sent; the message says why, for the page."""


@dataclass(frozen=True)
class Call:
    """What the learner asked for; never a secret (the token is only a choice)."""

    method: str = "GET"
    path: str = "/v1/me"
    query: str = ""  # one name=value a line
    headers: str = ""  # one Name: value a line
    body: str = ""
    token: str = "run"
    endpoint: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> Call:
        return cls(**{k: str(data.get(k, getattr(cls, k))) for k in
                      cls.__dataclass_fields__})


def read_form(form: Mapping, texts: dict) -> Call:
    """The form's fields as a ``Call``; ``FormError`` with the page's words."""
    values = {name: str(form.get(name, "")).replace("\r\n", "\n")
              for name in Call.__dataclass_fields__}
    for part, limit in LIMITS.items():
        if len(values[part]) > limit:
            raise FormError(texts["too_long"].format(part=part, limit=limit))
    values["method"] = values["method"].upper()
    if values["method"] not in METHODS:
        values["method"] = "GET"
    if values["token"] not in TOKEN_CHOICES:
        values["token"] = "run"
    values["path"] = values["path"].strip()
    call = Call(**values)
    query_pairs(call, texts)
    header_pairs(call, texts)
    return call


def query_pairs(call: Call, texts: dict) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(call.query.splitlines(), 1):
        if not line.strip():
            continue
        name, equals, value = line.strip().partition("=")
        if not equals or not name:
            raise FormError(texts["bad_line"].format(line=number, part="query",
                                                     shape="name=value"))
        pairs.append((name, value))
    return pairs


def header_pairs(call: Call, texts: dict) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(call.headers.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not HEADER_NAME.fullmatch(name) or any(
                ord(c) < 32 and c != "\t" for c in value):
            raise FormError(texts["bad_line"].format(line=number, part="headers",
                                                     shape="Name: value"))
        if name.lower() in SERVER_HEADERS:
            raise FormError(texts["server_header"].format(name=name))
        pairs.append((name, value.strip()))
    return pairs


def bearer(call: Call, access_token: str | None) -> str | None:
    """The token the request carries: the run's, none, or a fresh made-up one."""
    if call.token == "none":
        return None
    if call.token == "made-up":
        return secrets.token_urlsafe(32)
    return access_token


def send(call: Call, url: str, token: str | None, redact: Redactor, *,
         timeout: float, deadline: float, public_only: bool, texts: dict) -> dict:
    """Send ``call`` to ``url`` (already checked to be under the API base); the
    captured exchange, redacted, or the reason none came (``error``)."""
    session = capture_session(requests.Session())
    session.trust_env = False  # no proxy or netrc credentials from the environment
    headers = dict(header_pairs(call, texts))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = call.body.encode() if call.body else None
    response, error = None, None
    try:
        with outbound.limits(deadline, public_only):
            response = session.request(call.method, url,
                                       params=query_pairs(call, texts),
                                       headers=headers, data=body, timeout=timeout)
    except requests.TooManyRedirects as exc:  # a redirect is shown, not followed
        response = exc.response
    except requests.RequestException as exc:
        error = transport_error(exc, timeout)
    finally:
        session.close()
    found = {"error": error, "exchange": None}
    if response is not None:
        found["exchange"] = redact.deep(exchange_of(session, response).to_dict())
        found["status"] = response.status_code
    return found
