"""What the sandbox received for an attempt's app, kept in the lab's database.

The web side hands over each request to an issuer's authorize, token, device or API
endpoint whose client is an attempt's (:func:`describe`), with the answer it got.
Every secret in it (code, verifier, tokens, client secret) is kept as its SHA-256
digest only (RFC 6819 §5.1.4.1.3): enough to see that the same refresh token came
twice, never enough to use one. Which client an address's request belongs to is
read cheaply: attempt apps' client ids share :data:`PREFIX`, so no other request
costs a lookup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from flowlab.core.http import basic_credentials
from flowlab.core.storage.tables import exercise_attempts
from flowlab.core.storage.tables import exercise_traffic
from flowlab.sandbox.public import digest

PREFIX = "exercise-"
SECRET_FIELDS = ("code", "code_verifier", "refresh_token", "client_secret",
                 "device_code", "access_token", "token", "assertion", "password",
                 "csrf_token")
KINDS = {"/authorize": "authorize", "/api/token": "token", "/api/device": "device"}
# Requests kept per attempt: a looping script cannot fill the database; the checks
# need far fewer (later ones are not kept, and the page says so).
MAX_KEPT = 300
_ATTEMPT_OF: dict[str, str] = {}  # client id -> attempt id, this process's


@dataclass(frozen=True)
class Received:
    """One request recorded for an attempt: ``data`` as :func:`describe` made it."""

    id: int
    at: float
    kind: str
    status: int
    data: dict


def kind_of(path: str) -> str | None:
    """The kind of an issuer-relative path: authorize, token, device, api."""
    if path.startswith("/v1/"):
        return "api"
    return KINDS.get(path)


def client_of(headers: Mapping[str, str], query: Mapping[str, str],
              form: Mapping[str, str]) -> str:
    """The client a request names: Basic credentials (RFC 6749 §2.3.1), else its
    ``client_id`` parameter (§2.3.1, §4.1.1)."""
    authorization = headers.get("Authorization", "")
    if authorization[:6].lower() == "basic ":
        named = basic_credentials(authorization)
        return named[0] if named else ""
    return form.get("client_id") or query.get("client_id") or ""


def attempt_of(conn: Connection, client_id: str) -> str | None:
    """The attempt whose app is ``client_id``; no query unless it has the prefix."""
    if not client_id.startswith(PREFIX):
        return None
    if client_id not in _ATTEMPT_OF:
        found = conn.execute(select(exercise_attempts.c.id).where(
            exercise_attempts.c.client_id == client_id)).scalar()
        if found is None:
            return None
        if len(_ATTEMPT_OF) > 4096:
            _ATTEMPT_OF.clear()
        _ATTEMPT_OF[client_id] = found
    return _ATTEMPT_OF[client_id]


def describe(kind: str, method: str, path: str, headers: Mapping[str, str],
             query: Sequence[tuple[str, str]], form: Sequence[tuple[str, str]],
             status: int, location: str, body: str) -> dict:
    """What a check may read of one request and its answer, secrets as digests."""
    auth = headers.get("Authorization", "").partition(" ")[0].lower()
    fields = dict(form)
    data = {"method": method, "path": path,
            "query": _sealed(query), "form": _sealed(form),
            "auth": {"basic": "basic", "bearer": "bearer"}.get(auth) or (
                "post" if "client_secret" in fields else "none")}
    answer = _json(body)
    if kind == "authorize":
        sent = urlsplit(location)
        back = {k: v[0] for k, v in parse_qs(sent.query or sent.fragment).items()}
        data["outcome"] = ("code" if "code" in back or "access_token" in back
                           else back.get("error", ""))
    elif kind in ("token", "device"):
        error = answer.get("error")
        data["error"] = error if isinstance(error, str) else ""
        data["grant_type"] = fields.get("grant_type", "")
        data["refresh_sent"] = _digest(fields.get("refresh_token"))
        data["refresh_issued"] = _digest(answer.get("refresh_token"))
        data["scope"] = answer.get("scope", "")
    else:
        error = answer.get("error")
        data["error"] = error.get("message", "") if isinstance(error, dict) else ""
    return data


def record(conn: Connection, attempt: str, kind: str, status: int,
           data: dict) -> bool:
    """Keep one request for ``attempt``; False once it has :data:`MAX_KEPT`."""
    kept = conn.execute(select(func.count()).where(
        exercise_traffic.c.attempt == attempt)).scalar()
    if kept >= MAX_KEPT:
        return False
    conn.execute(insert(exercise_traffic).values(
        attempt=attempt, at=time.time(), kind=kind, status=status,
        data=json.dumps(data)))
    return True


def received(conn: Connection, attempt: str) -> list[Received]:
    """Everything recorded for ``attempt``, oldest first."""
    rows = conn.execute(select(exercise_traffic).where(
        exercise_traffic.c.attempt == attempt).order_by(exercise_traffic.c.id))
    return [Received(r.id, r.at, r.kind, r.status, json.loads(r.data)) for r in rows]


def _sealed(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The first value of each name; a secret's as ``sha256:<digest>``."""
    kept: dict[str, str] = {}
    for name, value in pairs:
        if name not in kept:
            kept[name] = (f"sha256:{digest(value)}" if name in SECRET_FIELDS
                          else value[:512])
    return kept


def _digest(value) -> str | None:
    return digest(value) if isinstance(value, str) and value else None


def _json(body: str) -> dict:
    try:
        found = json.loads(body) if body else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
