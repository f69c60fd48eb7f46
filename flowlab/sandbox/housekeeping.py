"""Purging expired codes, tokens, grants and failure counters, now and then.

Rows are kept an hour past expiry so a late request still gets "expired" rather than
"invalid"; used codes (and refresh tokens retired by rotation, when that setting is
on) stay until then to spot reuse. A grant goes six months after consent, and its
refresh token with it.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection
from sqlalchemy import delete

from flowlab.core.storage.db import transaction
from flowlab.core.storage.sandbox_tables import auth_failures
from flowlab.core.storage.sandbox_tables import codes
from flowlab.core.storage.sandbox_tables import dpop_bindings
from flowlab.core.storage.sandbox_tables import grants
from flowlab.core.storage.sandbox_tables import once_values
from flowlab.core.storage.sandbox_tables import tokens

PURGE_EVERY = 60.0
_last_purge = 0.0


def maybe_purge(conn: Connection) -> None:
    """Purge at most once a minute per process, on the way to saving a code."""
    global _last_purge
    now = time.time()
    if now - _last_purge >= PURGE_EVERY:
        _last_purge = now
        purge(conn, now)


def purge(conn: Connection, now: float) -> None:
    """Delete codes and tokens an hour past expiry, dead grants, spent single-use
    values and old counters."""
    with transaction(conn):
        conn.execute(delete(codes).where(codes.c.expires_at < now - 3600))
        conn.execute(delete(tokens).where(tokens.c.expires_at < now - 3600))
        conn.execute(delete(grants).where(grants.c.expires_at < now))
        conn.execute(delete(once_values).where(once_values.c.expires_at <= now))
        conn.execute(delete(dpop_bindings).where(dpop_bindings.c.expires_at <= now))
        conn.execute(delete(auth_failures)
                     .where(auth_failures.c.minute < now // 60 - 1))
