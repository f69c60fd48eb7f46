"""What each demo user already approved, and failed client authentications.

A returning user skips the consent page unless new scopes are asked or the client
sends ``show_dialog=true`` (Spotify's behaviour). Failed client authentications are
counted per client and caller (an address, or the runner's back channel), per
minute, in the database so every worker process sees the same count (RFC 6749 §10.10,
RFC 6819 §5.1.4.2.3).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection
from sqlalchemy import bindparam
from sqlalchemy import select

from flowlab.core.storage.db import transaction
from flowlab.core.storage.db import upsert
from flowlab.core.storage.prepared import Prepared
from flowlab.core.storage.sandbox_tables import auth_failures
from flowlab.core.storage.sandbox_tables import consents


def granted_scopes(conn: Connection, user_id: str, client_id: str):
    """The scopes ``user_id`` approved for ``client_id``; None if never asked."""
    scopes = conn.execute(
        select(consents.c.scopes).where(consents.c.user_id == user_id,
                                        consents.c.client_id == client_id)
    ).scalar()
    return set(scopes.split()) if scopes is not None else None


def remember_consent(
    conn: Connection, user_id: str, client_id: str, scopes: list[str]
) -> None:
    """Add ``scopes`` to what the user approved for the client."""
    with transaction(conn):
        known = (granted_scopes(conn, user_id, client_id) or set()) | set(scopes)
        upsert(conn, consents, dict(user_id=user_id, client_id=client_id,
                                    scopes=" ".join(sorted(known))),
               ("user_id", "client_id"), lambda new: {"scopes": new.scopes})


# Built once (every token request reads a count): bound to ``key`` and ``minute``.
FAILURES = select(auth_failures.c["count"]).where(
    auth_failures.c["key"] == bindparam("key"),
    auth_failures.c.minute == bindparam("minute"))
_FAILURES = Prepared(FAILURES)


def failures(conn: Connection, key: str) -> int:
    """Failed client authentications for ``key`` in the current minute."""
    row = _FAILURES.first(conn, this_minute(key))
    return (row and row["count"]) or 0


def this_minute(key: str) -> dict:
    """The parameters of ``FAILURES``: ``key`` in the current minute."""
    return {"key": key, "minute": int(time.time() // 60)}


def record_failure(conn: Connection, key: str) -> None:
    """Count one failed client authentication for ``key``."""
    upsert(conn, auth_failures,
           dict(key=key, minute=int(time.time() // 60), count=1), ("key", "minute"),
           lambda new: {"count": auth_failures.c["count"] + 1})
