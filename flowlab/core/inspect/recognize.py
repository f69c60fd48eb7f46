"""What a pasted text is, told apart by its shape only: a URL's parameters, a JSON
document's members, a compact JWS (RFC 7515 §7.1), an HTTP message or curl command,
a WWW-Authenticate challenge (``wire``). Nothing is fetched. Text that fits
none of them, or fits loosely, is "unknown": never a confident guess."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from flowlab.core.http import Message
from flowlab.core.inspect.wire import challenge
from flowlab.core.inspect.wire import curl_message
from flowlab.core.inspect.wire import http_message

JWS = re.compile(r"(?:(?:Authorization:\s*)?(?:Bearer|DPoP)\s+|DPoP:\s*)?"
                 r"(eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*)", re.ASCII)
URL = re.compile(r"[A-Za-z][\w+.-]*:\S+")
# A callback carries one of these (RFC 6749 §4.1.2, §4.1.2.1, §4.2.2).
ANSWERS = {"code", "error", "access_token", "id_token"}
ID_TOKEN = {"iss", "sub", "aud", "exp", "iat"}  # OpenID Connect Core §2
METADATA = {"authorization_endpoint", "token_endpoint", "jwks_uri",
            "registration_endpoint", "pushed_authorization_request_endpoint"}


@dataclass
class Pasted:
    """A pasted text read: its kind, its parts on the wire as ``(where, name,
    value)`` in order, every leaf value (for masking), the host it names, and a
    JWT's use."""

    kind: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)
    leaves: list[tuple[str, str, str]] = field(default_factory=list)
    host: str = ""
    use: str = ""


def recognize(text: str) -> Pasted:
    """The first reading that fits the whole text, or ``unknown``."""
    text = text.strip()
    for read in (_jwt, _json, _message, _challenge, _url):
        found = read(text)
        if found is not None:
            return found
    return Pasted("unknown")


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _leaves(where: str, data: dict, path: str = ""):
    """Every string or number inside ``data``, by its dotted path."""
    for name, value in data.items():
        inside = f"{path}.{name}" if path else name
        if isinstance(value, dict):
            yield from _leaves(where, value, inside)
        elif isinstance(value, list):
            for item in value:
                yield from _leaves(where, {name: item}, path)
        else:
            yield where, inside, _text(value)


def _members(where: str, data: dict) -> tuple[list, list]:
    """A JSON object's members as parts (nested values as compact JSON)."""
    parts = [(where, name, _text(value)) for name, value in data.items()]
    return parts, list(_leaves(where, data))


def _decode(segment: str) -> dict | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    return data if isinstance(data, dict) else None


def _jwt(text: str) -> Pasted | None:
    match = JWS.fullmatch(text)
    if not match:
        return None
    header, payload, _ = (_decode(s) for s in match[1].split("."))
    if header is None or payload is None or "alg" not in header:
        return None
    head, head_leaves = _members("jwt-header", header)
    claims, claim_leaves = _members("claim", payload)
    issuer = urlsplit(_text(payload.get("iss", ""))).hostname or ""
    return Pasted("jwt", head + claims, head_leaves + claim_leaves, issuer,
                  jwt_use(header, payload))


def jwt_use(header: dict, claims: dict) -> str:
    """What a JWT is for, from its ``typ`` (RFC 9449 §4.2, RFC 9068 §2.1) and its
    claims (OpenID Connect Core §2, RFC 7523 §3); "" when they do not say."""
    typ = _text(header.get("typ", "")).lower().removeprefix("application/")
    if typ == "dpop+jwt" or {"htm", "htu"} <= claims.keys():
        return "dpop_proof"
    if typ == "at+jwt":
        return "access_token"
    if {"nonce", "at_hash", "c_hash", "auth_time"} & claims.keys():
        return "id_token"
    if (claims.get("iss") and claims.get("iss") == claims.get("sub")
            and {"aud", "jti"} <= claims.keys() and "scope" not in claims):
        return "client_assertion"
    if {"scope", "client_id", "cnf"} & claims.keys():
        return "access_token"
    # An id_token's required claims, without an access token's jti (RFC 9068 §2.2).
    if (ID_TOKEN <= claims.keys() and claims["iss"] != claims["sub"]
            and "jti" not in claims):
        return "id_token"
    return ""


def _json(text: str) -> Pasted | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "access_token" in data:
        kind = "token_response"
    elif isinstance(data.get("error"), str) or _web_api_error(data.get("error")):
        kind = "error_response"
    elif ("issuer" in data and METADATA & data.keys()) or {
            "resource", "authorization_servers"} <= data.keys():
        kind = "discovery"
    else:
        return None
    parts, leaves = _members("json", data)
    where = _text(data.get("issuer") or data.get("resource") or "")
    return Pasted(kind, parts, leaves, urlsplit(where).hostname or "")


def _web_api_error(error) -> bool:
    """Spotify's Web API error object, ``{"status": 401, "message": "…"}``
    (spotify-wire); any other object under ``error`` is no OAuth error."""
    return (isinstance(error, dict) and set(error) == {"status", "message"}
            and isinstance(error["status"], int))


def _url(text: str) -> Pasted | None:
    if not URL.fullmatch(text):
        return None
    parts = urlsplit(text)
    query = [("query", k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    fragment = [("fragment", k, v)
                for k, v in parse_qsl(parts.fragment, keep_blank_values=True)]
    found = {name for _, name, _ in query + fragment}
    host = parts.hostname or ""
    if "response_type" in found or {"client_id", "request_uri"} <= found or (
            {"client_id", "redirect_uri"} <= found and not ANSWERS & found):
        return Pasted("authorization_request", query, query, host)
    if ANSWERS & found:
        return Pasted("authorization_response", query + fragment,
                      query + fragment, host)
    return None


def _message(text: str) -> Pasted | None:
    message = curl_message(text) or http_message(text)
    if message is None:
        return None
    if message.start.is_response:
        return _response(message)
    fields = message.fields()
    if message.body and not message.header("Content-Type"):  # a form, if anything
        fields += [("form", k, v) for k, v in parse_qsl(message.text)]
    host = message.header("Host") or ""
    if _redeems(message.start.method, {n for w, n, _ in fields if w != "header"}):
        body = [f for f in fields if f[0] != "header"]
        ordered = body + [f for f in fields if f[0] == "header"]
        return Pasted("token_request", ordered, ordered,
                      (urlsplit(f"//{host}").hostname or ""))
    posted = [f for f in fields if f[0] == "form"]
    if ANSWERS & {name for _, name, _ in posted}:  # a form_post callback (§2)
        return Pasted("authorization_response", posted, posted,
                      urlsplit(f"//{host}").hostname or "")
    found = _url(f"https://{host or 'host.invalid'}{message.start.target}")
    if found is not None and not host:
        found.host = ""
    return found


def _redeems(method: str, names: set[str]) -> bool:
    """A token request: a grant_type (RFC 6749 §4.1.3, §4.4.2, §6), or a POST
    of a code with the client's identity but no grant_type, as GitHub takes one.
    (A form_post callback, OAuth 2.0 Form Post Response Mode §2, has no client.)"""
    return "grant_type" in names or (method == "POST" and "code" in names and bool(
        names & {"client_id", "client_secret", "redirect_uri", "code_verifier"}))


def _response(message: Message) -> Pasted | None:
    """A response written out as HTTP: what its body is, with its headers."""
    headers = [("header", k, v) for k, v in message.headers]
    found = _json(message.text.strip())
    if found is None:
        challenge = message.header("WWW-Authenticate")
        return _challenge(challenge) if challenge else None
    return Pasted(found.kind, found.fields + headers, found.leaves + headers,
                  found.host)


def _challenge(text: str) -> Pasted | None:
    """One challenge header, or several lines of it as a 401 shows them (their
    challenges are one list, RFC 9110 §11.6.1, §5.3)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and all(line[:17].lower() == "www-authenticate:"
                              for line in lines):
        text = "WWW-Authenticate: " + ", ".join(line[17:].strip() for line in lines)
    found = challenge(text)
    if found is None:
        return None
    fields = [("header", "WWW-Authenticate", found[0])]
    fields += [("param", name, value) for name, value in found[1]]
    return Pasted("www_authenticate", fields, fields)
