"""Open dynamic registration (RFC 7591 §3) and its management (RFC 7592 §2).

A registration is a row of ``clients`` like any app, so it holds across processes
and servers sharing the database. Registrations are counted per address and
minute in the failure counter table (``consents``), under a key no client id
takes; past ``settings.registrations_per_minute`` the answer is 429. The
registration access token is 256 random bits, kept as its SHA-256 digest and
compared in constant time; it reads and deletes the registration, nothing else.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Mapping

import requests

from flowlab.core import outbound
from flowlab.core.hosts import constant_time_equal
from flowlab.sandbox import consents
from flowlab.sandbox import store
from flowlab.sandbox.clientreg import SECRET_METHODS
from flowlab.sandbox.clientreg import RegistrationError
from flowlab.sandbox.clientreg import check
from flowlab.sandbox.clientreg import public_jwks
from flowlab.sandbox.store import Client
from flowlab.sandbox.store import digest

OWNER = "rfc7591"  # on no dashboard: every dashboard lists its own session's apps
FETCH_DEADLINE = 5.0


class TooMany(Exception):
    """Too many registrations from one address this minute (RFC 6585 §4)."""

    def __init__(self) -> None:
        super().__init__("Too many registrations from this address this minute.")
        self.retry_after = max(1, math.ceil(60 - time.time() % 60))


def fetch_jwks(uri: str) -> dict:
    """A loopback ``jwks_uri``'s JWK Set, under the outbound rules (deadline, size,
    no redirect followed); ``clientreg.loopback_jwks_uri`` vetted the address."""
    try:
        with outbound.limits(FETCH_DEADLINE), outbound.session() as http:
            answer = http.get(uri, timeout=FETCH_DEADLINE,
                              headers={"Accept": "application/json"})
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise RegistrationError("invalid_client_metadata",
                                f"jwks_uri could not be read: {exc}"[:300]) from None


def register(conn, config: Mapping, settings, body, remote: str, local: bool,
             issuer: str, owner: str | None = None) -> dict:
    """Register a client from its metadata (RFC 7591 §3.1); the 201 body (§3.2.1)
    with the RFC 7592 §3 registration access token and client URI. ``owner``:
    whose it is, if not the sandbox's (an added issuer's)."""
    key = "registration " + remote  # a space: never in a client id's counter key
    if consents.failures(conn, key) >= settings.registrations_per_minute:
        raise TooMany()
    consents.record_failure(conn, key)
    found = check(body, settings, local, fetch_jwks)
    keys = found.pop("fetched_jwks", None) or found.get("jwks")
    method = found["token_endpoint_auth_method"]
    token = secrets.token_urlsafe(32)
    found["client_id_issued_at"] = int(time.time())
    client, _ = store.create_client(
        conn, config, name=found["client_name"], redirect_uris=found["redirect_uris"],
        confidential=method != "none", grant_types=found["grant_types"],
        owner=owner or OWNER, has_secret=method in SECRET_METHODS, registered=dict(
            auth_method=method, jwks=json.dumps(keys) if keys else None,
            jwks_uri=found.get("jwks_uri"), registration_hash=digest(token),
            id_token_signed_response_alg=found.get("id_token_signed_response_alg"),
            scope=found.get("scope"), registered=json.dumps(found)))
    return {**answer(config, client, issuer), "registration_access_token": token}


def answer(config: Mapping, client: Client, issuer: str) -> dict:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3)."""
    body = {"client_id": client.client_id, **json.loads(client.registered)}
    secret = store.shown_secret(config, client)
    if secret:
        body.update(client_secret=secret, client_secret_expires_at=0)
    body["registration_client_uri"] = (
        f"{issuer}/api/register/{client.client_id}")
    return body


def managed(conn, client_id: str, token: str | None) -> Client | None:
    """The registration ``token`` manages, else None (RFC 7592 §2)."""
    client = store.get_client(conn, client_id)
    known = client is not None and client.registration_hash is not None
    expected = client.registration_hash if known else digest("")
    matches = bool(token) and constant_time_equal(digest(token), expected)
    return client if known and matches else None


def refresh_keys(conn, client: Client) -> Client:
    """Fetch a client's loopback ``jwks_uri`` again: it may have rotated its keys
    (RFC 7517 §5). Unchanged if the document cannot be read."""
    try:
        keys = public_jwks(fetch_jwks(client.jwks_uri))
    except RegistrationError:
        return client
    store.update_client(conn, client.client_id, jwks=json.dumps(keys))
    return store.get_client(conn, client.client_id)
