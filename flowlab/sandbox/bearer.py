"""The Web API's access-token check: a Bearer header in, a live token record out.

Tokens are accepted only in the ``Authorization: Bearer`` header (RFC 6750 §2.1).
A refusal is an :class:`ApiError` with Spotify's status and message (wire spec §4C);
a 401 also names the problem in ``WWW-Authenticate``, as Spotify does (RFC 6750 §3).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection

from flowlab.sandbox import grants


class ApiError(Exception):
    """A Web API error with Spotify's status and message; ``token_error`` is False
    for a request that sent no token at all."""

    def __init__(self, status: int, message: str, token_error: bool = True) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.token_error = token_error


def bearer_challenge(message: str | None) -> str:
    """The 401's challenge: no error code when no token came (RFC 6750 §3, §3.1)."""
    if message is None:
        return 'Bearer realm="spotify"'
    return ('Bearer realm="spotify", error="invalid_token", '
            f'error_description="{message}"')


def bearer_token(conn: Connection, header: str | None) -> grants.TokenRecord:
    """The live access token of an ``Authorization`` header (RFC 6750 §2.1, §3.1)."""
    if not header:
        raise ApiError(401, "No token provided", token_error=False)
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or " " in value.strip():
        raise ApiError(400, "Only valid bearer authentication supported")
    record = grants.find_token(conn, value.strip())
    if record is None or record.kind != "access" or record.revoked:
        raise ApiError(401, "Invalid access token")
    if record.expires_at <= time.time():
        raise ApiError(401, "The access token expired")
    return record


def user_token(conn: Connection, header: str | None,
               users: dict[str, dict]) -> tuple[grants.TokenRecord, dict]:
    """A token issued for a user; a client-credentials token is refused."""
    record = bearer_token(conn, header)
    user = users.get(record.user_id or "")
    if user is None:
        raise ApiError(401, "Unauthorized.")
    return record, user
