"""Storage for the sandbox: apps, consents and failed-authentication counts.

Codes and tokens live in :mod:`flowlab.sandbox.grants`. Client secrets are random
values, so a SHA-256 digest compared in constant time protects them well enough and
keeps the token endpoint fast (RFC 6749 §2.3.1, §10.1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.demo import DemoApp
from flowlab.core.demo import demo_apps
from flowlab.core.storage.db import SANDBOX
from flowlab.core.storage.db import transaction
from flowlab.core.storage.db import upsert
from flowlab.core.storage.prepared import Prepared
from flowlab.core.storage.sandbox_tables import clients

# The owner of a client that a client ID metadata document describes
# (flowlab.sandbox.client_documents): no dashboard session lists it.
DOCUMENT_OWNER = "client-id-metadata-document"


def digest(value: str) -> str:
    """SHA-256 hex digest, how secrets, codes, tokens are kept (RFC 6819 §5.1.4.1.3)."""
    return hashlib.sha256(value.encode()).hexdigest()


REGISTERED_FIELDS = ("auth_method", "jwks", "jwks_uri", "registration_hash",
                     "scope", "registered")


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
    # Dynamic registration (RFC 7591 §2); None for the dashboard's and CLI's apps.
    auth_method: str | None = None
    jwks: str | None = None  # JSON JWK Set
    jwks_uri: str | None = None
    registration_hash: str | None = None
    id_token_alg: str | None = None  # OIDC Registration §2; None: the issuer's
    scope: str | None = None
    registered: str | None = None  # JSON

    @property
    def demo(self) -> bool:
        return self.owner is None

    @property
    def from_document(self) -> bool:
        """Described by its own metadata document, its id that document's URL."""
        return self.owner == DOCUMENT_OWNER

    @classmethod
    def from_row(cls, row) -> Client:
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
            id_token_alg=row.get("id_token_signed_response_alg"),
            **{name: row.get(name) for name in REGISTERED_FIELDS},
        )


# Built once: the token endpoint looks a client up on every request.
CLIENT = select(clients).where(clients.c.client_id == bindparam("client_id"))
_CLIENT = Prepared(CLIENT)


def get_client(conn: Connection, client_id: str | None) -> Client | None:
    """The app registered as ``client_id``, or None."""
    if not client_id:
        return None
    row = _CLIENT.first(conn, {"client_id": client_id})
    return Client.from_row(row) if row else None


def list_clients(conn: Connection, owner: str | None) -> list[Client]:
    """The demo apps, then the apps made by ``owner`` (one dashboard session)."""
    rows = conn.execute(
        select(clients)
        .where(clients.c.owner.is_(None) | (clients.c.owner == (owner or "")))
        .order_by(clients.c.owner.is_not(None), clients.c.created_at)
    ).mappings()
    return [Client.from_row(row) for row in rows]


def derive_secret(config: Mapping, client_id: str, salt: str) -> str:
    """An app's secret, derived from the app's key, so it can be shown again."""
    label = f"sandbox-client-secret:{client_id}:{salt}".encode()
    key = config["SECRET_KEY"].encode()
    return hmac.new(key, label, hashlib.sha256).hexdigest()[:40]


def shown_secret(config: Mapping, client: Client) -> str | None:
    """The app's secret, derived again from the app's key (a demo app's is set)."""
    if not client.confidential or (client.secret_hash is None and not client.demo):
        return None  # public, or private_key_jwt (RFC 7523): no secret at all
    if client.demo:
        apps = {app.client_id: app for app in demo_apps(config)}
        return apps[client.client_id].client_secret
    return derive_secret(config, client.client_id, client.secret_salt)


# The response type each grant uses at the authorization endpoint (RFC 7591 §2.1).
RESPONSE_TYPES = (("authorization_code", "code"), ("implicit", "token"))


def create_client(
    conn: Connection,
    config: Mapping,
    *,
    name: str,
    redirect_uris: list[str],
    confidential: bool,
    implicit: bool = False,
    grant_types: Sequence[str] | None = None,
    owner: str | None = "cli",
    client_id: str | None = None,
    has_secret: bool | None = None,
    registered: Mapping | None = None,
) -> tuple[Client, str | None]:
    """Register an app (RFC 6749 §2); returns it and its secret (None if public).

    ``grant_types`` are RFC 7591 §2 names; without them, every grant the client
    type allows (implicit only if asked). Response types follow (RFC 7591 §2.1).
    ``client_id`` is random unless given (an exercise's apps share a prefix).
    A confidential app has a secret unless ``has_secret`` is False (private_key_jwt);
    ``registered`` sets the dynamic registration's columns (``REGISTERED_FIELDS``).
    """
    client_id = client_id or secrets.token_hex(16)
    if has_secret is None:
        has_secret = confidential
    salt = secrets.token_hex(8) if has_secret else None
    secret = derive_secret(config, client_id, salt) if salt else None
    if grant_types is None:
        grant_types = ["authorization_code", "refresh_token"]
        if confidential:
            grant_types.append("client_credentials")
        elif implicit:
            grant_types.append("implicit")
    responses = [kind for grant, kind in RESPONSE_TYPES if grant in grant_types]
    conn.execute(insert(clients).values(
        client_id=client_id, name=name, confidential=confidential,
        secret_hash=secret and digest(secret), secret_salt=salt,
        response_types=" ".join(responses), grant_types=" ".join(grant_types),
        redirect_uris="\n".join(redirect_uris), owner=owner, created_at=time.time(),
        **(registered or {}),
    ))
    return get_client(conn, client_id), secret


# What a start-up refreshes in an existing demo or lab app (the key may have changed).
_REFRESHED = ("name", "confidential", "secret_hash", "response_types",
              "grant_types", "redirect_uris", "owner")


def seed_demo_apps(conn: Connection, apps: tuple[DemoApp, ...]) -> None:
    """Insert or refresh the demo apps (idempotent, safe at every start-up)."""
    refresh_clients(conn, [dict(
        client_id=app.client_id, name=app.name, confidential=app.confidential,
        secret_hash=app.client_secret and digest(app.client_secret),
        secret_salt=None, response_types=" ".join(app.response_types),
        grant_types=" ".join(app.grant_types),
        redirect_uris="\n".join(app.redirect_uris), owner=None, created_at=0,
    ) for app in apps])


def refresh_clients(conn: Connection, rows: list[dict]) -> None:
    """Insert each app of ``rows`` (start-up's own apps), or refresh the fields of
    one there already that differ; one read, and no write when none differs."""
    columns = [clients.c[name] for name in ("client_id", *_REFRESHED)]
    found = {row.client_id: row for row in conn.execute(select(*columns).where(
        clients.c.client_id.in_([row["client_id"] for row in rows])))}
    stale = [row for row in rows if row["client_id"] not in found or any(
        getattr(found[row["client_id"]], name) != row[name] for name in _REFRESHED)]
    if not stale:
        return
    with transaction(conn):
        for row in stale:
            upsert(conn, clients, row, ("client_id",),
                   lambda new: {name: new[name] for name in _REFRESHED})


def update_client(conn: Connection, client_id: str, **fields) -> None:
    """Change an app's redirect URIs or secret salt/hash."""
    conn.execute(update(clients).where(clients.c.client_id == client_id)
                 .values(**fields))


def delete_client(conn: Connection, client_id: str) -> None:
    """Remove an app with its grants, codes, tokens and consents."""
    conn.execute(delete(clients).where(clients.c.client_id == client_id))


# The sandbox's database; its tables are migrated at start-up by every process.
DB = SANDBOX
