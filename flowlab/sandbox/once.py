"""Values that count once, in the database every process shares.

Two uses: a replay cache (a client assertion's or a DPoP proof's ``jti`` is accepted
the first time only, RFC 7523 §3, RFC 9449 §11.1), and a value handed out once (a
pushed authorization request, fetched by its ``request_uri`` a single time, RFC 9126
§2.2, §4). ``kind`` names the cache; keys are stored as SHA-256 digests, so a jti or
a request_uri is never kept in the clear. Expired rows count as absent; the sandbox's
housekeeping deletes them.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import select

from flowlab.core.storage.db import insert_new
from flowlab.core.storage.sandbox_tables import once_values
from flowlab.sandbox.store import digest


def _key(kind: str, key: str):
    return and_(once_values.c.kind == kind, once_values.c.key == digest(key))


def _insert(conn: Connection, kind: str, key: str, value, expires_at: float) -> bool:
    conn.execute(delete(once_values).where(
        _key(kind, key), once_values.c.expires_at <= time.time()))
    return insert_new(conn, once_values, dict(
        kind=kind, key=digest(key), expires_at=expires_at,
        value=None if value is None else json.dumps(value)))


def use_once(conn: Connection, kind: str, key: str, expires_at: float) -> bool:
    """True the first time ``key`` is offered before ``expires_at``; False on a
    replay. Keep ``expires_at`` at least as late as the value could be accepted."""
    return _insert(conn, kind, key, None, expires_at)


def put(conn: Connection, kind: str, key: str, value, expires_at: float) -> bool:
    """Keep ``value`` (JSON-able) under a fresh ``key`` until ``expires_at``; False
    if the key is taken already."""
    return _insert(conn, kind, key, value, expires_at)


def take(conn: Connection, kind: str, key: str):
    """The value kept under ``key``, removed as it is read; None when there is none,
    it expired, or another process took it first."""
    row = conn.execute(select(once_values.c.value, once_values.c.expires_at)
                       .where(_key(kind, key))).first()
    if row is None:
        return None
    gone = conn.execute(delete(once_values).where(_key(kind, key))).rowcount
    if gone != 1 or row.expires_at <= time.time():
        return None
    return json.loads(row.value) if row.value is not None else None



def peek(conn: Connection, kind: str, key: str):
    """The value kept under ``key``, left in place; None when there is none or it
    expired. A pushed request is read at each page of the authorization (login,
    consent, RFC 9126 §4 allows reloads) and taken when the code is issued."""
    row = conn.execute(select(once_values.c.value)
                       .where(_key(kind, key),
                              once_values.c.expires_at > time.time())).first()
    return json.loads(row.value) if row is not None and row.value else None
