"""Authorization codes and tokens, each tied to the grant (one consent) it came from.

Codes are marked used, never deleted at once, so a replay can be detected and the
grant revoked (RFC 6749 §4.1.2, §10.5). A refresh token lives as long as its grant:
six months from consent, never extended by refreshing (wire spec §3). Refresh tokens
are rotated only when the rotation setting is on (RFC 9700 §4.14.2). Expired rows
are purged now and then. A revocation is recorded on the grant too, and a token counts
as revoked when its grant is: so a token saved just after a racing request revoked
its grant dies with the others, whichever request committed first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy import update

from flowlab.core.storage.db import transaction
from flowlab.core.storage.prepared import Prepared
from flowlab.core.storage.prepared import written
from flowlab.core.storage.sandbox_tables import codes
from flowlab.core.storage.sandbox_tables import dpop_bindings
from flowlab.core.storage.sandbox_tables import grants
from flowlab.core.storage.sandbox_tables import tokens
from flowlab.sandbox.housekeeping import maybe_purge
from flowlab.sandbox.store import digest

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
    nonce: str | None = None  # OIDC Core §3.1.2.1
    auth_time: float | None = None  # when the user signed in (OIDC Core §2)
    jkt: str | None = None  # the DPoP key it is bound to (RFC 9449 §10)


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


# The token endpoint's statements, compiled once (each request only binds values).
_GRANT_COLUMNS = ("client_id", "user_id", "created_at", "expires_at", "resources")
NEW_GRANT = Prepared(insert(grants).returning(grants.c.id), _GRANT_COLUMNS)
FIND_CODE = Prepared(
    select(codes, grants.c.client_id, grants.c.user_id, dpop_bindings.c.jkt)
    .join(grants, grants.c.id == codes.c.grant_id)
    .outerjoin(dpop_bindings, dpop_bindings.c.value_hash == codes.c.code_hash)
    .where(codes.c.code_hash == bindparam("hash")))
CLAIM_CODE = Prepared(update(codes).where(codes.c.code_hash == bindparam("hash"),
                                          codes.c.used_at.is_(None))
                      .values(used_at=bindparam("now")))


def _token_row(kind: str):
    """A token row of grant ``grant_id``, selected only while the grant is live:
    a token is never saved into a revoked grant (RFC 6749 §10.5). A refresh token
    expires with its grant."""
    expires = (grants.c.expires_at if kind == "refresh"
               else bindparam("access_expires", type_=tokens.c.expires_at.type))
    return select(
        bindparam(kind + "_hash", type_=tokens.c.token_hash.type), literal(kind),
        grants.c.id, bindparam(kind + "_scopes", type_=tokens.c.scopes.type),
        bindparam("now", type_=tokens.c.issued_at.type), expires,
    ).where(grants.c.id == bindparam("grant_id"), grants.c.revoked_at.is_(None))


# RETURNING says what was saved: psycopg gives no row count for INSERT … SELECT.
_TOKEN_COLUMNS = ("token_hash", "kind", "grant_id", "scopes", "issued_at",
                  "expires_at")
SAVE_ACCESS = Prepared(insert(tokens).from_select(
    _TOKEN_COLUMNS, _token_row("access")).returning(tokens.c.kind))
SAVE_BOTH = Prepared(insert(tokens).from_select(
    _TOKEN_COLUMNS, union_all(_token_row("access"), _token_row("refresh"))
).returning(tokens.c.kind))


def new_grant(conn: Connection, client_id: str, user_id: str | None,
              resources: str | None = None) -> int:
    """Start a grant: the user's consent to this client, or the client acting
    alone; ``resources`` the RFC 8707 resources the user approved."""
    now = time.time()
    return NEW_GRANT.rows(conn, dict(
        client_id=client_id, user_id=user_id, created_at=now,
        expires_at=now + REFRESH_LIFETIME, resources=resources))[0][0]


def save_code(conn: Connection, code: str, ttl: int, **fields) -> None:
    """Keep a code's digest with its client, user, redirect URI, scopes and PKCE."""
    maybe_purge(conn)
    with transaction(conn):
        grant_id = new_grant(conn, fields["client_id"], fields["user_id"],
                             fields.get("resources"))
        conn.execute(insert(codes).values(
            code_hash=digest(code), grant_id=grant_id,
            redirect_uri=fields["redirect_uri"], scopes=" ".join(fields["scopes"]),
            challenge=fields["challenge"], challenge_method=fields["method"],
            expires_at=time.time() + ttl, nonce=fields.get("nonce"),
            auth_time=fields.get("auth_time"),
        ))


def find_code(conn: Connection, code: str) -> CodeRecord | None:
    """The record of ``code``, used or not, or None if unknown."""
    row = FIND_CODE.first(conn, {"hash": digest(code)})
    if row is None:
        return None
    return CodeRecord(
        row["grant_id"], row["client_id"], row["user_id"], row["redirect_uri"],
        row["scopes"].split(), row["challenge"], row["challenge_method"],
        row["expires_at"], row["used_at"] is not None, row["nonce"],
        row["auth_time"], row["jkt"],
    )


def claim_code(conn: Connection, code: str) -> bool:
    """Mark a code used; False if another request got there first (single use)."""
    return CLAIM_CODE.execute(
        conn, {"hash": digest(code), "now": time.time()}).rowcount == 1


def save_tokens(conn, grant_id: int | None, client_id: str, user_id: str | None,
                scopes: list[str], access: str, ttl: int, refresh: str | None = None,
                refresh_scopes: list[str] = ()) -> bool:
    """Keep the digests of an access token and maybe a refresh token, in one commit;
    False, and nothing kept, if the grant was revoked meanwhile (RFC 6749 §10.5).

    Without ``grant_id`` (implicit, client credentials) a new grant is started.
    """
    maybe_purge(conn)
    now = time.time()
    values = dict(access_hash=digest(access), access_scopes=" ".join(scopes),
                  now=now, access_expires=now + ttl)
    if refresh:
        values.update(refresh_hash=digest(refresh),
                      refresh_scopes=" ".join(refresh_scopes))
    statement = SAVE_BOTH if refresh else SAVE_ACCESS
    if grant_id is not None:  # one statement, so one commit
        return bool(statement.rows(conn, {"grant_id": grant_id, **values}))
    with written(conn):
        grant_id = new_grant(conn, client_id, user_id)
        statement.rows(conn, {"grant_id": grant_id, **values})
    return True


def find_token(conn: Connection, token: str) -> TokenRecord | None:
    """The record of an access or refresh token, whatever its state, or None.

    A refresh token expires with its grant, six months after consent; every token
    is revoked with its grant.
    """
    row = conn.execute(
        select(tokens, grants.c.client_id, grants.c.user_id, grants.c.revoked_at,
               grants.c.expires_at.label("grant_expires"))
        .join(grants, grants.c.id == tokens.c.grant_id)
        .where(tokens.c.token_hash == digest(token))
    ).mappings().first()
    if row is None:
        return None
    refresh = row["kind"] == "refresh"
    return TokenRecord(
        row["kind"], row["grant_id"], row["client_id"], row["user_id"],
        row["scopes"].split(), row["issued_at"],
        row["grant_expires"] if refresh else row["expires_at"],
        row["revoked"] or ("revoked" if row["revoked_at"] is not None else None),
    )


def rotate_refresh(conn: Connection, token: str) -> bool:
    """Retire a refresh token being exchanged, with rotation on (RFC 9700 §4.14.2);
    False if it was already retired."""
    return conn.execute(
        update(tokens).where(tokens.c.token_hash == digest(token),
                             tokens.c.kind == "refresh", tokens.c.revoked.is_(None))
        .values(revoked="rotated")
    ).rowcount == 1


def revoke_grant(conn: Connection, grant_id: int) -> None:
    """Revoke a grant and every live token of it (RFC 7009 §2.1, RFC 6749 §10.5);
    a token saved in it later is born revoked (``find_token``)."""
    with transaction(conn):
        conn.execute(update(grants).where(grants.c.id == grant_id,
                                          grants.c.revoked_at.is_(None))
                     .values(revoked_at=time.time()))
        conn.execute(update(tokens).where(tokens.c.grant_id == grant_id,
                                          tokens.c.revoked.is_(None))
                     .values(revoked="revoked"))


def revoke_token(conn: Connection, token: str) -> None:
    """Revoke one access token (RFC 7009 §2.1)."""
    conn.execute(update(tokens).where(tokens.c.token_hash == digest(token),
                                      tokens.c.revoked.is_(None))
                 .values(revoked="revoked"))


def expire_access(conn: Connection, token: str) -> bool:
    """Demo control: make one access token expired now (not in Spotify)."""
    return conn.execute(
        update(tokens).where(tokens.c.token_hash == digest(token),
                             tokens.c.kind == "access")
        .values(expires_at=time.time() - 1)
    ).rowcount == 1
