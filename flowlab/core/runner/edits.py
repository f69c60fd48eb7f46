"""A step's request as rows to edit: each query parameter, form field and header.

The rows come from the request as it was captured. A value that is one of the run's
secrets is shown by its name, ``{{code_verifier}}``, so the learner never has to see
a secret to send it again; ``fill`` puts the value back just before sending. In an
``Authorization: Basic`` header the credentials are shown as ``id:secret`` and
encoded again on the way out (RFC 7617 §2, RFC 6749 §2.3.1).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote_plus
from urllib.parse import urlencode

from flowlab.core.http import Message
from flowlab.core.http import basic_credentials
from flowlab.core.redact import mask
from flowlab.core.redact import secret_field
from flowlab.core.runner import compare

WHERE = ("query", "form", "header")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Set by the HTTP client on the way out, from the rest of the request (RFC 9110 §7.2,
# §8.6): shown, never edited.
COMPUTED = frozenset({"host", "content-length"})
EXTRA_ROWS = 3


class EditError(ValueError):
    """An edited request that cannot be sent; the message says why."""


@dataclass(frozen=True)
class Row:
    """One part of the request: where it goes, its name, its value as typed."""

    where: str
    name: str
    value: str


def placeholder(name: str) -> str:
    """How a row names one of the run's values: ``{{name}}``."""
    return "{{" + name + "}}"


def named_values(secrets: dict, client_id: str, client_secret: str | None) -> dict:
    """The run's values a row may insert by name (``{{name}}``)."""
    token = secrets.get("token") or {}
    refresh = secrets.get("refresh_tokens") or []
    found = {
        "client_id": client_id, "client_secret": client_secret,
        "redirect_uri": secrets.get("redirect_uri"), "code": secrets.get("code"),
        "code_verifier": secrets.get("verifier"),
        "state": secrets.get("state") or secrets.get("taken_state"),
        "access_token": token.get("access_token") if isinstance(token, dict) else None,
        "refresh_token": refresh[-1] if refresh else None,
        "device_code": secrets.get("device_code"),
    }
    found.update({f"refresh_token_{n}": value
                  for n, value in enumerate(refresh[:-1], 1)})
    return {name: value for name, value in found.items() if value}


def rows_of(message: Message, names: dict) -> tuple[list[Row], dict]:
    """The request's rows, each secret value replaced by its name; and the names
    with any secret sent that the run no longer keeps (``sent_<field>``)."""
    names = dict(names)
    by_value = {value: name for name, value in names.items()
                if name not in ("client_id", "redirect_uri")}
    # A real provider's run keeps its requests masked on disk: a masked value is
    # known by its mask (``redact.mask``) as well.
    by_value.update({mask(value): name for value, name in list(by_value.items())
                     if len(value) > 12})
    rows = []
    for where, name, value in message.fields():
        if where not in WHERE or (where == "header" and name.lower() in COMPUTED):
            continue
        if where == "header" and name.lower() == "authorization":
            value = _authorization(value, names, by_value)
        elif value in by_value or secret_field(name, value):
            value = _named(value, name, names, by_value)
        rows.append(Row(where, name, value))
    return rows, names


def _named(value: str, field: str, names: dict, by_value: dict) -> str:
    """A secret value as its name; one the run no longer keeps (an access token
    since refreshed) gets a name of its own, ``sent_<field>``. A value already
    masked (a real provider's run, on disk) stays as it is: it cannot be sent."""
    if value in by_value:
        return placeholder(by_value[value])
    if "…" in value:
        return value
    key = "sent_" + re.sub(r"\W", "_", field)
    names[key], by_value[value] = value, key
    return placeholder(key)


def _authorization(value: str, names: dict, by_value: dict) -> str:
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "bearer":
        return f"{scheme} {_named(credentials, 'access_token', names, by_value)}"
    pair = basic_credentials(value) if scheme.lower() == "basic" else None
    if not pair:  # masked on disk: this run's own client, as the step sent it
        known = scheme.lower() == "basic" and names.get("client_secret")
        credentials = placeholder("client_id") + ":" + placeholder("client_secret")
        return f"{scheme} {credentials}" if known else value
    user, secret = pair
    user = placeholder("client_id") if user == names.get("client_id") else user
    return f"{scheme} {user}:{_named(secret, 'client_secret', names, by_value)}"


def from_form(form, count: int) -> list[Row]:
    """The rows a submitted form holds (``row-<n>-where|name|value|remove``); a row
    without a name, or marked to remove, is left out."""
    rows = []
    for n in range(count):
        name = (form.get(f"row-{n}-name") or "").strip()
        where = form.get(f"row-{n}-where") or ""
        if not name or form.get(f"row-{n}-remove") or where not in WHERE:
            continue
        rows.append(Row(where, name, form.get(f"row-{n}-value") or ""))
    return rows


def fill(text: str, names: dict) -> str:
    """``text`` with every ``{{name}}`` replaced by the run's value."""
    def value(match: re.Match) -> str:
        if match.group(1) not in names:
            known = ", ".join(sorted(names)) or "none"
            raise EditError(f"There is no value called “{match.group(1)}” in this "
                            f"run. The names you can use: {known}.")
        return names[match.group(1)]

    return PLACEHOLDER.sub(value, text)


def request_parts(rows: list[Row], names: dict) -> tuple[str, list, bytes | None]:
    """The query string, the headers and the form body the rows make, filled."""
    query, form, headers = [], [], []
    for row in rows:
        value = fill(row.value, names)
        if row.where == "header":
            value = _encode_basic(value)
            if "\n" in value or "\r" in value or "\n" in row.name:
                raise EditError(f"The header “{row.name}” holds a line break, which "
                                "HTTP does not allow (RFC 9110 §5.5).")
            headers.append((row.name, value))
        else:
            (query if row.where == "query" else form).append((row.name, value))
    body = urlencode(form).encode() if form else None
    return urlencode(query), headers, body


def _encode_basic(value: str) -> str:
    """``Basic id:secret`` as the wire carries it: base64 (RFC 7617 §2)."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "basic" or ":" not in credentials:
        return value
    user, _, secret = credentials.partition(":")  # each form-encoded first
    pair = f"{quote_plus(user)}:{quote_plus(secret)}".encode()
    return f"{scheme} {base64.b64encode(pair).decode('ascii')}"


def changes(before: list[Row], after: list[Row]) -> list[compare.Row]:
    """The rows the learner changed, removed (``only-left``) or added
    (``only-right``), compared as ``runner.compare`` compares two messages."""
    rows = compare.diff(tuple((r.where, r.name, r.value) for r in before),
                        tuple((r.where, r.name, r.value) for r in after))
    return [row for row in rows if row.state != "same"]
