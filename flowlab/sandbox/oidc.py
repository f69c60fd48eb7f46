"""OpenID Connect at an issuer whose profile says ``oidc = true`` (OIDC Core 1.0).

A code request with ``openid`` in its scope gets an ``id_token`` beside the access
token (§3.1.3.3), signed with the sandbox's key (``flowlab.sandbox.keys``) for the
client's registered alg, else the issuer's (RS256, §2); ``none`` never. Claims:
``iss``, ``sub``, ``aud`` (the client alone, so no ``azp``: errata set 2 keeps it
for extensions beyond Core), ``exp``, ``iat``, ``auth_time``, ``nonce`` when the
authorization request had one, and ``at_hash`` (§3.1.3.6). The discovery fields
(Discovery §3) join the RFC 8414 metadata.
"""

from __future__ import annotations

import base64
import hashlib
import time

import jwt
from sqlalchemy import Connection
from sqlalchemy import update

from flowlab.core.storage.sandbox_tables import clients
from flowlab.sandbox import keys

SIGNING_ALGS = ("RS256", "ES256")  # what the sandbox's keys sign (keys.ALGS)
# OIDC Core §2, §3.1.3.6: what an id_token of the sandbox may carry.
ID_TOKEN_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash")
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def set_id_token_alg(conn: Connection, client_id: str, alg: str | None) -> None:
    """Record a client's ``id_token_signed_response_alg`` (OIDC Registration §2);
    None goes back to the issuer's default. ValueError for an alg not offered
    (``none`` never is): the registration endpoint's ``invalid_client_metadata``."""
    if alg is not None and alg not in SIGNING_ALGS:
        raise ValueError(f"id_token_signed_response_alg must be one of "
                         f"{', '.join(SIGNING_ALGS)}")
    conn.execute(update(clients).where(clients.c.client_id == client_id)
                 .values(id_token_signed_response_alg=alg))


def token_hash(value: str, alg: str) -> str:
    """``at_hash`` (OIDC Core §3.1.3.6): the left half of the hash of the token's
    ASCII, with the hash of the alg (SHA-256 for RS256 and ES256), base64url."""
    digest = _HASHES[alg[-3:]](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def issuer_of(token_uri: str) -> str:
    """The issuer a token request came to: its endpoint is ``{issuer}/api/token``
    on the host the client used (RFC 8414 §2), as the metadata says."""
    return token_uri.split("?")[0].removesuffix("/api/token")


def id_token(conn: Connection, settings, *, issuer: str, client, user_id: str,
             access_token: str, nonce: str | None, auth_time: float | None,
             now: float | None = None) -> str:
    """A signed id_token (OIDC Core §2, §3.1.3.6), its header naming the key."""
    alg = client.id_token_alg or settings.id_token_alg
    now = int(now or time.time())
    claims = {"iss": issuer, "sub": user_id, "aud": client.client_id,
              "exp": now + settings.token_ttl, "iat": now,
              "at_hash": token_hash(access_token, alg)}
    if auth_time is not None:
        claims["auth_time"] = int(auth_time)
    if nonce is not None:
        claims["nonce"] = nonce
    kid, private = keys.signing_key(conn, settings.signing_secret, alg)
    return jwt.encode(claims, private, alg, headers={"kid": kid})


def add_id_token(token: dict, token_handler, request) -> dict:
    """The code grant's token modifier: an ``id_token`` when the issuer speaks
    OpenID Connect and the code was asked with ``openid`` (OIDC Core §3.1.3.3)."""
    validator = token_handler.request_validator
    settings = validator.settings
    if not settings.oidc or "openid" not in (request.scopes or ()):
        return token
    record = request.code_record
    token["id_token"] = id_token(
        validator.conn, settings, issuer=issuer_of(request.uri),
        client=request.client, user_id=record.user_id,
        access_token=token["access_token"], nonce=record.nonce,
        auth_time=record.auth_time)
    return token


def metadata(settings, issuer: str) -> dict:
    """Discovery §3 fields for the RFC 8414 metadata; none without OIDC."""
    if not settings.oidc:
        return {}
    return {
        "jwks_uri": issuer + "/.well-known/jwks.json",
        "userinfo_endpoint": issuer + "/api/userinfo",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "claims_supported": [*ID_TOKEN_CLAIMS, *settings.oidc_claims],
        "prompt_values_supported": ["none", "login", "consent"],
    }
