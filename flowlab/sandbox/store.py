"""SQLite storage for the sandbox: apps, consents and failed-authentication counts.

Codes and tokens live in :mod:`flowlab.sandbox.grants`. Client secrets are random
values, so a SHA-256 digest compared in constant time protects them well enough and
keeps the token endpoint fast (RFC 6749 §2.3.1, §10.1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Config

from ..db import Database
from ..db import transaction
from ..demo import DemoApp


def digest(value: str) -> str:
    """SHA-256 hex digest, how secrets, codes, tokens are kept (RFC 6819 §5.1.4.1.3)."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    """A registered app (RFC 6749 §2): oauthlib reads ``client_id`` from it."""

    client_id: str
    name: str
    confidential: bool
    secret_hash: str | None
    secret_salt: str | None
    response_types: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    owner: str | None

    @property
    def demo(self) -> bool:
        return self.owner is None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Client:
        return cls(
            client_id=row["client_id"],
            name=row["name"],
            confidential=bool(row["confidential"]),
            secret_hash=row["secret_hash"],
            secret_salt=row["secret_salt"],
            response_types=tuple(row["response_types"].split()),
            grant_types=tuple(row["grant_types"].split()),
            redirect_uris=tuple(row["redirect_uris"].splitlines()),
            owner=row["owner"],
        )


def get_client(conn: sqlite3.Connection, client_id: str | None) -> Client | None:
    """The app registered as ``client_id``, or None."""
    if not client_id:
        return None
    row = conn.execute(
        "SELECT * FROM clients WHERE client_id = ?", (client_id,)
    ).fetchone()
    return Client.from_row(row) if row else None


def list_clients(conn: sqlite3.Connection, owner: str | None) -> list[Client]:
    """The demo apps, then the apps made by ``owner`` (one dashboard session)."""
    rows = conn.execute(
        "SELECT * FROM clients WHERE owner IS NULL OR owner = ?"
        " ORDER BY owner IS NOT NULL, created_at",
        (owner or "",),
    ).fetchall()
    return [Client.from_row(row) for row in rows]


def derive_secret(config: Config, client_id: str, salt: str) -> str:
    """An app's secret, derived from the app's key, so it can be shown again."""
    label = f"sandbox-client-secret:{client_id}:{salt}".encode()
    key = config["SECRET_KEY"].encode()
    return hmac.new(key, label, hashlib.sha256).hexdigest()[:40]


def create_client(
    conn: sqlite3.Connection,
    config: Config,
    *,
    name: str,
    redirect_uris: list[str],
    confidential: bool,
    implicit: bool = False,
    owner: str | None = "cli",
) -> tuple[Client, str | None]:
    """Register an app (RFC 6749 §2); returns it and its secret (None if public)."""
    client_id = secrets.token_hex(16)
    salt = secrets.token_hex(8) if confidential else None
    secret = derive_secret(config, client_id, salt) if salt else None
    if confidential:
        grants = "authorization_code refresh_token client_credentials"
        responses = "code"
    else:
        grants = "authorization_code refresh_token" + (" implicit" if implicit else "")
        responses = "code token" if implicit else "code"
    with transaction(conn):
        conn.execute(
            "INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (client_id, name, int(confidential), secret and digest(secret), salt,
             responses, grants, "\n".join(redirect_uris), owner, time.time()),
        )
    return get_client(conn, client_id), secret


def seed_demo_apps(conn: sqlite3.Connection, apps: tuple[DemoApp, ...]) -> None:
    """Insert or refresh the two demo apps (idempotent, safe at every start-up)."""
    with transaction(conn):
        for app in apps:
            secret = app.client_secret and digest(app.client_secret)
            conn.execute(
                "INSERT INTO clients VALUES (?, ?, ?, ?, NULL, ?, ?, ?, NULL, 0)"
                " ON CONFLICT (client_id) DO UPDATE SET name = excluded.name,"
                " confidential = excluded.confidential,"
                " secret_hash = excluded.secret_hash,"
                " response_types = excluded.response_types,"
                " grant_types = excluded.grant_types,"
                " redirect_uris = excluded.redirect_uris, owner = NULL",
                (app.client_id, app.name, int(app.confidential), secret,
                 " ".join(app.response_types), " ".join(app.grant_types),
                 "\n".join(app.redirect_uris)),
            )


def update_client(conn: sqlite3.Connection, client_id: str, **fields) -> None:
    """Change an app's redirect URIs or secret salt/hash."""
    columns = ", ".join(f"{name} = ?" for name in fields)
    with transaction(conn):
        conn.execute(
            f"UPDATE clients SET {columns} WHERE client_id = ?",
            (*fields.values(), client_id),
        )


def delete_client(conn: sqlite3.Connection, client_id: str) -> None:
    """Remove an app with its grants, codes, tokens and consents."""
    with transaction(conn):
        conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,))


# The sandbox's SQLite file; its schema is applied at start-up by every process.
DB = Database("SANDBOX_DATABASE", Path(__file__).with_name("schema.sql"))
