"""Authorization codes and tokens, each tied to the grant (one consent) it came from.

Codes are marked used, never deleted at once, so a replay can be detected and the
grant revoked (RFC 6749 §4.1.2, §10.5). A refresh token lives as long as its grant:
six months from consent, never extended by refreshing (wire spec §3). Refresh tokens
are rotated only when the rotation setting is on (RFC 9700 §4.14.2). Expired rows
are purged now and then.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from ..db import transaction
from .housekeeping import maybe_purge
from .store import digest

# Spotify's refresh tokens expire six months after consent (2026); the grant row
# keeps that moment, and refreshing never moves it.
REFRESH_LIFETIME = 180 * 86400


@dataclass(frozen=True)
class CodeRecord:
    grant_id: int
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    challenge_method: str | None
    expires_at: float
    used: bool


@dataclass(frozen=True)
class TokenRecord:
    kind: str
    grant_id: int
    client_id: str
    user_id: str | None
    scopes: list[str]
    issued_at: float
    expires_at: float
    revoked: str | None


def new_grant(conn: sqlite3.Connection, client_id: str, user_id: str | None) -> int:
    """Start a grant: the user's consent to this client, or the client acting alone."""
    now = time.time()
    cursor = conn.execute(
        "INSERT INTO grants (client_id, user_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (client_id, user_id, now, now + REFRESH_LIFETIME),
    )
    return cursor.lastrowid


def save_code(conn: sqlite3.Connection, code: str, ttl: int, **fields) -> None:
    """Keep a code's digest with its client, user, redirect URI, scopes and PKCE."""
    maybe_purge(conn)
    with transaction(conn):
        grant_id = new_grant(conn, fields["client_id"], fields["user_id"])
        conn.execute(
            "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (digest(code), grant_id, fields["redirect_uri"],
             " ".join(fields["scopes"]), fields["challenge"], fields["method"],
             time.time() + ttl),
        )


def find_code(conn: sqlite3.Connection, code: str) -> CodeRecord | None:
    """The record of ``code``, used or not, or None if unknown."""
    row = conn.execute(
        "SELECT codes.*, grants.client_id, grants.user_id FROM codes"
        " JOIN grants ON grants.id = codes.grant_id WHERE code_hash = ?",
        (digest(code),),
    ).fetchone()
    if row is None:
        return None
    return CodeRecord(
        row["grant_id"], row["client_id"], row["user_id"], row["redirect_uri"],
        row["scopes"].split(), row["challenge"], row["challenge_method"],
        row["expires_at"], row["used_at"] is not None,
    )


def claim_code(conn: sqlite3.Connection, code: str) -> bool:
    """Mark a code used; False if another request got there first (single use)."""
    cursor = conn.execute(
        "UPDATE codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
        (time.time(), digest(code)),
    )
    return cursor.rowcount == 1


def save_tokens(conn, grant_id: int | None, client_id: str, user_id: str | None,
                scopes: list[str], access: str, ttl: int, refresh: str | None = None,
                refresh_scopes: list[str] = ()) -> None:
    """Keep the digests of an access token and maybe a refresh token, in one commit.

    Without ``grant_id`` (implicit, client credentials) a new grant is started.
    """
    maybe_purge(conn)
    now = time.time()
    with transaction(conn):
        if grant_id is None:
            grant_id = new_grant(conn, client_id, user_id)
        rows = [(digest(access), "access", grant_id, " ".join(scopes), now, now + ttl)]
        if refresh:
            expiry = conn.execute(
                "SELECT expires_at FROM grants WHERE id = ?", (grant_id,)
            ).fetchone()[0]
            rows.append((digest(refresh), "refresh", grant_id,
                         " ".join(refresh_scopes), now, expiry))
        conn.executemany(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, NULL)", rows
        )


def find_token(conn: sqlite3.Connection, token: str) -> TokenRecord | None:
    """The record of an access or refresh token, whatever its state, or None.

    A refresh token expires with its grant, six months after consent.
    """
    row = conn.execute(
        "SELECT tokens.*, grants.client_id, grants.user_id,"
        " grants.expires_at AS grant_expires FROM tokens"
        " JOIN grants ON grants.id = tokens.grant_id WHERE token_hash = ?",
        (digest(token),),
    ).fetchone()
    if row is None:
        return None
    refresh = row["kind"] == "refresh"
    return TokenRecord(
        row["kind"], row["grant_id"], row["client_id"], row["user_id"],
        row["scopes"].split(), row["issued_at"],
        row["grant_expires"] if refresh else row["expires_at"], row["revoked"],
    )


def rotate_refresh(conn: sqlite3.Connection, token: str) -> bool:
    """Retire a refresh token being exchanged, with rotation on (RFC 9700 §4.14.2);
    False if it was already retired."""
    cursor = conn.execute(
        "UPDATE tokens SET revoked = 'rotated'"
        " WHERE token_hash = ? AND kind = 'refresh' AND revoked IS NULL",
        (digest(token),),
    )
    return cursor.rowcount == 1


def revoke_grant(conn: sqlite3.Connection, grant_id: int) -> None:
    """Revoke every live token of a grant (RFC 7009 §2.1, RFC 6749 §10.5)."""
    conn.execute(
        "UPDATE tokens SET revoked = 'revoked' WHERE grant_id = ? AND revoked IS NULL",
        (grant_id,),
    )


def revoke_token(conn: sqlite3.Connection, token: str) -> None:
    """Revoke one access token (RFC 7009 §2.1)."""
    conn.execute(
        "UPDATE tokens SET revoked = 'revoked'"
        " WHERE token_hash = ? AND revoked IS NULL",
        (digest(token),),
    )


def expire_access(conn: sqlite3.Connection, token: str) -> bool:
    """Demo control: make one access token expired now (not in Spotify)."""
    cursor = conn.execute(
        "UPDATE tokens SET expires_at = ? WHERE token_hash = ? AND kind = 'access'",
        (time.time() - 1, digest(token)),
    )
    return cursor.rowcount == 1
