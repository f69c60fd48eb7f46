"""One model of an HTTP exchange: start line, headers, body; one serializer.

Messages come from the wire (``runner.capture``) or from a request the app itself
received (``from_wsgi``). Body views pick the fields out of a body by its content
type (``flowlab.core.fields``), so every parameter, header and field can be
annotated. Also the two pieces of OAuth arithmetic every part needs: ``s256`` and
``basic_credentials``.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import hashlib
import json
from collections.abc import Container
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from urllib.parse import unquote_plus

from flowlab.core.fields import BODY_VIEWS
from flowlab.core.fields import query_pairs

# What the app records in place of a header value it must not keep (a session cookie).
NOT_RECORDED = "(this browser's session cookie: not recorded)"


@dataclass(frozen=True)
class StartLine:
    """A start line read once (RFC 9112 §3, §4): a request's method, target and
    version, or a response's version, status and reason."""

    method: str = ""
    target: str = ""
    version: str = ""
    status: int = 0
    reason: str = ""

    @property
    def is_response(self) -> bool:
        return self.version.startswith("HTTP/") and not self.method


@lru_cache(maxsize=4096)
def parse_start_line(line: str) -> StartLine:
    """``GET /a?b HTTP/1.1`` or ``HTTP/1.1 200 OK``; missing parts are empty."""
    first, _, rest = line.partition(" ")
    if first.startswith("HTTP/"):
        status, _, reason = rest.partition(" ")
        return StartLine(version=first, reason=reason,
                         status=int(status) if status.isdigit() else 0)
    target, _, version = rest.rpartition(" ") if " " in rest else (rest, "", "")
    return StartLine(method=first, target=target, version=version)


@dataclass
class Message:
    """A request or response as it went over the wire: the body as the bytes sent,
    ``text`` its decoded view (a ``str`` given for ``body`` is taken as UTF-8)."""

    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = self.body.encode()

    @property
    def start(self) -> StartLine:
        """The start line's parts, parsed once per distinct line."""
        return parse_start_line(self.start_line)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def media_type(self) -> str:
        return content_type(self.header("Content-Type"))[0]

    @property
    def charset(self) -> str:
        """The body's charset from Content-Type (RFC 9110 §8.3.2); UTF-8 if none."""
        return content_type(self.header("Content-Type"))[1] or "utf-8"

    @property
    def text(self) -> str:
        """The body decoded for reading; bytes that do not decode are replaced."""
        try:
            return self.body.decode(self.charset, "replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", "replace")

    def as_http(self) -> str:
        """The message as HTTP text: start line, headers, blank line, body."""
        lines = [self.start_line, *(f"{k}: {v}" for k, v in self.headers)]
        return "\n".join(lines) + "\n\n" + self.text

    def pretty_body(self) -> str:
        """The body for reading: JSON indented, anything else exactly as sent."""
        if not self.media_type.endswith("json") or not self.body:
            return self.text
        try:
            return json.dumps(json.loads(self.text), indent=2, ensure_ascii=False)
        except ValueError:
            return self.text

    def fields(self) -> list[tuple[str, str, str]]:
        """``(where, name, value)`` for every query parameter, header and body field."""
        found = [("query", k, v) for k, v in query_pairs(self.start.target)]
        found += [("header", k, v) for k, v in self.headers]
        view = BODY_VIEWS.get(self.media_type)
        if view and self.body:
            found += [(view.where, k, v) for k, v in view.pairs(self.text)]
        return found

    def to_json(self) -> dict:
        """The one stored form: a body that is UTF-8 is kept as text (readable, and
        redactable by value); any other is base64 with ``body_encoding``."""
        data = {"start_line": self.start_line,
                "headers": [list(h) for h in self.headers]}
        try:
            data["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            data["body"] = base64.b64encode(self.body).decode("ascii")
            data["body_encoding"] = "base64"
        return data

    @classmethod
    def from_json(cls, data: dict) -> Message:
        """A message from ``to_json``'s form, or from one stored before bodies were
        bytes (text without ``body_encoding``)."""
        body = data.get("body") or ""
        if data.get("body_encoding") == "base64":
            body = base64.b64decode(body)
        return cls(data["start_line"], [tuple(h) for h in data.get("headers", [])],
                   body)


@dataclass
class Exchange:
    """A request and its response (None when no response came: ``error`` says why)."""

    request: Message
    response: Message | None = None
    error: str | None = None
    note: str | None = None
    url: str = ""
    started: float = 0.0
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        return {"request": self.request.to_json(),
                "response": self.response and self.response.to_json(),
                "error": self.error, "note": self.note, "url": self.url,
                "started": self.started, "elapsed_ms": self.elapsed_ms}

    @classmethod
    def from_dict(cls, data: dict) -> Exchange:
        response = data.get("response")
        return cls(Message.from_json(data["request"]),
                   response and Message.from_json(response),
                   data.get("error"), data.get("note"), data.get("url", ""),
                   data.get("started", 0.0), data.get("elapsed_ms", 0.0))


def from_wsgi(environ: dict, body: bytes = b"", cookie: str = NOT_RECORDED,
              shown: Container[str] | None = None) -> Message:
    """A request as the WSGI server received it (PEP 3333), headers in its order
    (only those ``shown``, if given); a cookie, which would let anyone act as
    that browser, becomes ``cookie``."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        query = environ.get("QUERY_STRING")
        target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    start = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
    names = {key: "-".join(p.capitalize() for p in key.removeprefix("HTTP_").split("_"))
             for key, value in environ.items() if key.startswith("HTTP_")
             or (key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value)}
    return Message(start, [(name, cookie if name == "Cookie" else environ[key])
                           for key, name in names.items()
                           if shown is None or name.lower() in shown], body)


@lru_cache(maxsize=256)
def content_type(value: str | None) -> tuple[str, str | None]:
    """A Content-Type's media type, lowercased, and charset (RFC 9110 §8.3); parsed
    once per distinct value (a step page reads a few values twenty times)."""
    header = email.message.Message()
    header["Content-Type"] = value or ""
    params = header.get_params() or [("", "")]
    return params[0][0].strip().lower(), header.get_param("charset") or None


def s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).decode().rstrip("=")


def basic_credentials(value: str) -> tuple[str, str] | None:
    """The id and secret of a Basic ``Authorization`` value, each form-decoded
    (RFC 6749 §2.3.1, RFC 7617 §2); None if not Basic or not readable."""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not Base64, or not UTF-8 once decoded
        return None
    client_id, colon, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if colon else None
