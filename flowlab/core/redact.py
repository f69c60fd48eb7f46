"""Redaction by allow-list: a run's credentials masked wherever they appear
(RFC 6749 §10.3-§10.5, RFC 6750 §5.3).

A value is masked unless its field is known safe (``content/redaction.toml`` says
why each is). Values under a credential's name (``code``, ``*_token``, ``*_secret``)
or shaped like a token are collected and masked by value, in every encoding; JWTs
and Basic or Bearer credentials are masked by shape wherever they appear. Unknown
fields with plain values stay visible (a name, a country, a 22-character track id):
entropy cannot tell a random id from a random secret, so 24 or more characters of a
token alphabet, letters and digits mixed, are what counts as a token.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote
from urllib.parse import quote_plus

from flowlab.core import ROOT
from flowlab.core import tomlcache
from flowlab.core.http import NOT_RECORDED
from flowlab.core.http import Message
from flowlab.core.http import basic_credentials

RULES = tomlcache.read(ROOT / "content" / "redaction.toml")
SAFE_FIELDS = frozenset(RULES["safe"])
SECRET_FIELDS = frozenset(RULES["secret"]["names"])
SECRET_ENDINGS = tuple(RULES["secret"]["endings"])
SECRET_HEADERS = frozenset(RULES["secret"]["headers"])
PUBLIC_KEYS = frozenset(RULES["run"]["public"])
SHORTEST = 8  # shorter values are masked only by pattern, never by value

# A JWS (three base64url segments) or a JWE (five), opening '{"' (RFC 7519 §3).
JWT = re.compile(r"(?<![\w-])eyJ[\w-]*\.[\w-]*\.[\w-]*(?:\.[\w-]*\.[\w-]*)?", re.ASCII)
CREDENTIAL = re.compile(r"\b(?:Basic|Bearer) +([\w.~+/-]{12,}=*)(?![\w\"=])", re.ASCII)
TOKEN_SHAPED = re.compile(r"[\w.~+/=-]{24,}", re.ASCII)
MASKED = re.compile(r"•+|[^…]{4}…[^…]{4}")  # what ``mask`` leaves of a secret


def masked(value: str) -> bool:
    """Whether ``value`` is what ``mask`` made of a secret (no secret has "…")."""
    return bool(MASKED.fullmatch(value))


def mask(secret: str | None) -> str:
    """Show the first and last four characters of a secret: ``abcd…wxyz``."""
    if not secret:
        return ""
    if len(secret) <= 12:
        return "•" * len(secret)
    return f"{secret[:4]}…{secret[-4:]}"


def token_shaped(value: str) -> bool:
    """A JWT, or 24 or more characters of a token alphabet mixing letters and
    digits (not a path): what a code, token or key looks like on the wire."""
    if JWT.search(value):
        return True
    return (bool(TOKEN_SHAPED.fullmatch(value)) and not value.startswith("/")
            and any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


def secret_field(name: str, value: str) -> bool:
    """Whether a field's value is masked: never if its name is known safe, else if
    its name says credential or its value looks like a token."""
    leaf = name.rsplit(".", 1)[-1].removesuffix("[]").lower()
    if leaf in SAFE_FIELDS:
        return False
    return (leaf in SECRET_FIELDS or leaf.endswith(SECRET_ENDINGS)
            or token_shaped(value))


def each_string(value, change):
    """A copy of a JSON-ready structure with ``change`` applied to every string."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: each_string(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [each_string(v, change) for v in value]
    return value


class Redactor:
    """Masks every secret of a run wherever it appears, unless revealing: also
    percent-encoded and JSON-escaped, as in URLs, forms and exports."""

    def __init__(self, secrets: set[str], reveal: bool = False) -> None:
        self.originals = sorted({s for s in secrets if s and len(s) >= SHORTEST
                                 and not masked(s)})
        forms = {(form, s) for s in self.originals
                 for form in (s, quote(s, safe=""), quote_plus(s), quote(s),
                              json.dumps(s)[1:-1])}
        self.forms = sorted(forms, key=lambda pair: len(pair[0]), reverse=True)
        self.reveal = reveal

    def __call__(self, text: str) -> str:
        if self.reveal or not text:
            return text
        for form, secret in self.forms:
            text = text.replace(form, mask(secret))
        text = JWT.sub(lambda m: mask(m.group()), text)
        return CREDENTIAL.sub(lambda m: m.group().replace(m[1], mask(m[1])), text)

    def deep(self, value):
        """A copy of a JSON-ready structure with every string redacted."""
        return each_string(value, self)

    @classmethod
    def for_run(cls, run, extra: set[str], reveal: bool,
                loaded: bool = False) -> Redactor:
        """Collect secrets from the run's store and every captured message; of a
        ``loaded`` run's messages (as stored), once per process each."""
        secrets_of = kept_message_secrets if loaded else message_secrets
        found = set(extra)
        for key, value in run.secrets.items():
            if key not in PUBLIC_KEYS:
                found.update([value] if isinstance(value, str)
                             else _values(key, value))
        for record in run.steps:
            found.update(v for k, v in record.data.get("params", [])
                         if secret_field(k, v))
            for exchange in record.exchanges:
                for message in (exchange["request"], exchange.get("response")):
                    if message:
                        found.update(secrets_of(message))
        return cls(found, reveal)


def _values(name: str, value) -> list[str]:
    """The secret strings of a JSON-ready value kept under ``name``, each picked
    out by the field rule under its own name (a list's items under the list's)."""
    if isinstance(value, dict):
        if {"start_line", "headers", "body"} <= value.keys():  # a whole message
            return message_secrets(value)
        return [s for k, v in value.items() for s in _values(k, v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _values(name, v)]
    if isinstance(value, str) and secret_field(name, value):
        return [value]
    return []


def message_secrets(data: dict) -> list[str]:
    """The credentials in one captured message: its headers, query and body."""
    message = Message.from_json(data)
    found = []
    for where, name, value in message.fields():
        if value == NOT_RECORDED:  # the app's own note, in place of a cookie
            continue
        if where == "header" and name.lower() in SECRET_HEADERS:
            found += _credentials(name.lower(), value)
        elif secret_field(name, value):
            found.append(value)
    return found


_FOUND: dict[bytes, tuple[str, ...]] = {}


def kept_message_secrets(data: dict) -> tuple[str, ...]:
    """``message_secrets`` of a stored message, worked out once: what a captured
    message says never changes. Keyed by a digest, so no message is kept; only for
    messages as stored (a run whose secrets are sealed is stored masked)."""
    key = hashlib.sha256(json.dumps(data, sort_keys=True,
                                    default=str).encode()).digest()
    found = _FOUND.get(key)
    if found is None:
        if len(_FOUND) >= 4096:  # a room's runs; older ones are worked out again
            _FOUND.clear()
        found = _FOUND[key] = tuple(message_secrets(data))
    return found


def _credentials(header: str, value: str) -> list[str]:
    """An Authorization value's credentials (Basic: also the decoded password);
    every cookie's value, or a Set-Cookie's first (RFC 6265 §4.1, §4.2)."""
    if header.endswith("authorization"):
        found = [value.partition(" ")[2] or value]
        pair = basic_credentials(value)  # None when masked (not Base64)
        return found + [pair[1]] if pair else found
    pairs = value.split(";")[:1] if header == "set-cookie" else value.split(";")
    return [pair.partition("=")[2].strip() for pair in pairs]
