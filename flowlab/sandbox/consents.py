"""What each demo user already approved, and failed client authentications.

A returning user skips the consent page unless new scopes are asked or the client
sends ``show_dialog=true`` (Spotify's behaviour). Failed client authentications are
counted per client and caller (an address, or the runner's back channel), per
minute, in SQLite so every worker process sees the same count (RFC 6749 §10.10,
RFC 6819 §5.1.4.2.3).
"""

from __future__ import annotations

import sqlite3
import time

from ..db import transaction


def granted_scopes(conn: sqlite3.Connection, user_id: str, client_id: str):
    """The scopes ``user_id`` approved for ``client_id``; None if never asked."""
    row = conn.execute(
        "SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?",
        (user_id, client_id),
    ).fetchone()
    return set(row["scopes"].split()) if row else None


def remember_consent(
    conn: sqlite3.Connection, user_id: str, client_id: str, scopes: list[str]
) -> None:
    """Add ``scopes`` to what the user approved for the client."""
    with transaction(conn):
        known = (granted_scopes(conn, user_id, client_id) or set()) | set(scopes)
        conn.execute(
            "INSERT INTO consents VALUES (?, ?, ?) ON CONFLICT (user_id, client_id)"
            " DO UPDATE SET scopes = excluded.scopes",
            (user_id, client_id, " ".join(sorted(known))),
        )


def failures(conn: sqlite3.Connection, key: str) -> int:
    """Failed client authentications for ``key`` in the current minute."""
    row = conn.execute(
        "SELECT count FROM auth_failures WHERE key = ? AND minute = ?",
        (key, int(time.time() // 60)),
    ).fetchone()
    return row[0] if row else 0


def record_failure(conn: sqlite3.Connection, key: str) -> None:
    """Count one failed client authentication for ``key``."""
    conn.execute(
        "INSERT INTO auth_failures VALUES (?, ?, 1) ON CONFLICT (key, minute)"
        " DO UPDATE SET count = count + 1",
        (key, int(time.time() // 60)),
    )
