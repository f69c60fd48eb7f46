"""The sandbox's signing keys: what id_tokens and JWT access tokens are signed with.

Two keys per algorithm (RS256 and ES256, RFC 7518 §3.3, §3.4), kept in the shared
database so that every process and every server on it signs and publishes the same
ones. The newer key of an algorithm signs; the older stays in the JWK Set so that
tokens it signed still verify after a rotation (OIDC Core §10.1.1). A key's ``kid``
is its RFC 7638 thumbprint. Private keys are sealed under the app's secret key; the
JWK Set (RFC 7517 §5) carries public members only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import Connection
from sqlalchemy import select

from flowlab.core.secrets import seal
from flowlab.core.secrets import unseal
from flowlab.core.storage.db import insert_new
from flowlab.core.storage.db import upsert
from flowlab.core.storage.sandbox_tables import signing_keys

ALGS = ("RS256", "ES256")
SLOTS = (0, 1)
_SALT = "sandbox signing keys"
# RFC 7638 §3.2: the members a thumbprint hashes, by key type.
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
             "OKP": ("crv", "kty", "x")}


def thumbprint(jwk: dict) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the required members, sorted, no
    whitespace, base64url without padding (also DPoP's ``jkt``, RFC 9449 §6.1)."""
    members = {name: jwk[name] for name in _REQUIRED[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _new_private(alg: str):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _public_jwk(alg: str, private) -> dict:
    family = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    jwk = family.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": thumbprint(jwk), "alg": alg, "use": "sig"}


def _pem(private) -> str:
    return private.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


def _row(secret: str, alg: str, slot: int, created_at: float) -> dict:
    private = _new_private(alg)
    jwk = _public_jwk(alg, private)
    return {"alg": alg, "slot": slot, "kid": jwk["kid"], "public_jwk": json.dumps(jwk),
            "sealed": seal(secret.encode(), _pem(private), "kid " + jwk["kid"], _SALT),
            "created_at": created_at}


def _rows(conn: Connection, secret: str) -> list:
    """Every key, the newest first; missing ones made now. Processes starting
    together may each make one: the first insert of a slot wins, the others read it."""
    rows = conn.execute(select(signing_keys)).all()
    if len(rows) < len(ALGS) * len(SLOTS):
        now = time.time()
        have = {(row.alg, row.slot) for row in rows}
        for alg in ALGS:
            for slot in SLOTS:
                if (alg, slot) not in have:  # slot 1 is the newer from the start
                    insert_new(conn, signing_keys,
                               _row(secret, alg, slot, now - 1 + slot))
        rows = conn.execute(select(signing_keys)).all()
    return sorted(rows, key=lambda row: row.created_at, reverse=True)


def jwks(conn: Connection, secret: str) -> dict:
    """The JWK Set the sandbox publishes at its ``jwks_uri`` (RFC 7517 §5)."""
    return {"keys": [json.loads(row.public_jwk) for row in _rows(conn, secret)]}


def signing_key(conn: Connection, secret: str,
                alg: str = "RS256") -> tuple[str, object]:
    """The ``kid`` and private key that sign with ``alg`` now (the newer of two)."""
    row = next(row for row in _rows(conn, secret) if row.alg == alg)
    return row.kid, _private(secret, row.kid, bytes(row.sealed))


@lru_cache(maxsize=32)
def _private(secret: str, kid: str, sealed: bytes):
    """A sealed key opened once per process (a kid never changes its key)."""
    pem = unseal(secret.encode(), sealed, "kid " + kid, _SALT)
    if pem is None:
        raise RuntimeError("the sandbox's signing keys were sealed under another "
                           "secret key; rotate them (flowlab.sandbox.keys.rotate)")
    return serialization.load_pem_private_key(pem.encode(), password=None)


def rotate(conn: Connection, secret: str, alg: str) -> str:
    """A new key for ``alg`` replaces the older of its two and signs from now on;
    the one that signed until now stays published. Returns the new ``kid``."""
    older = min((row for row in _rows(conn, secret) if row.alg == alg),
                key=lambda row: row.created_at)
    row = _row(secret, alg, older.slot, time.time())
    upsert(conn, signing_keys, row, ("alg", "slot"), lambda new: {
        name: new[name] for name in ("kid", "public_jwk", "sealed", "created_at")})
    return row["kid"]
