"""The runner's own keys and signed JWTs for the FAPI 2.0 flow, with PyJWT and
``cryptography``: a P-256 key (RFC 7518 §6.2), its RFC 7638 thumbprint worked out
step by step, client assertions (RFC 7523 §3) and DPoP proofs (RFC 9449 §4.2).

A private key is kept in the run's secrets as a JWK whose private member ``d`` is a
secret by name (``content/redaction.toml``); pages show only the public members.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PUBLIC = ("kty", "crv", "x", "y")  # RFC 7518 §6.2.1; also RFC 7638 §3.2's members
# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
REQUIRED = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
            "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}


def b64u(raw: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_key() -> dict:
    """A fresh P-256 key pair as a private JWK (``d`` included)."""
    return ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)


def public(key: dict) -> dict:
    """The public members of a JWK, in RFC 7518 §6.2.1's order."""
    return {name: key[name] for name in PUBLIC}


def thumbprint_steps(key: dict) -> list[list[str]]:
    """RFC 7638 §3: the required members in lexicographic order, no whitespace,
    their UTF-8 hashed with SHA-256, base64url-encoded; each step with its value.
    The last value is the thumbprint (DPoP's ``jkt``, RFC 9449 §6.1). A key
    without its type's required members raises ``KeyError``."""
    members = json.dumps({name: key[name] for name in REQUIRED[key["kty"]]},
                         separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(members.encode("utf-8")).digest()
    return [["1. Required members, sorted, no whitespace (RFC 7638 §3.2, §3.3)",
             members],
            ["2. SHA-256 of those bytes, in hex (RFC 7638 §3.1)", digest.hex()],
            ["3. base64url without padding: the thumbprint", b64u(digest)]]


def thumbprint(key: dict) -> str:
    """The RFC 7638 SHA-256 thumbprint of ``key``."""
    return thumbprint_steps(key)[-1][1]


def half_hash_steps(value: str, alg: str) -> list[list[str]] | None:
    """``at_hash`` / ``c_hash`` (OpenID Connect Core §3.1.3.6, §3.3.2.11): the hash
    of the value's ASCII by the size in the JWS alg's name (SHA-256 for RS256,
    ES256, PS256, HS256), its left half, base64url; each step with its value.
    None for an alg whose hash the spec does not name (``none``, EdDSA)."""
    name = {"256": "sha256", "384": "sha384", "512": "sha512"}.get(alg[-3:])
    if not name or alg[:2] not in ("RS", "PS", "ES", "HS"):
        return None
    digest = hashlib.new(name, value.encode("ascii")).digest()
    half = digest[: len(digest) // 2]
    return [[f"1. {name.upper()} of the value's ASCII bytes, in hex", digest.hex()],
            [f"2. The left half: the first {len(half)} of {len(digest)} bytes",
             half.hex()],
            ["3. base64url without padding: the hash claim", b64u(half)]]


def ath(access_token: str) -> str:
    """base64url of the SHA-256 of the token's ASCII (RFC 9449 §4.2)."""
    return b64u(hashlib.sha256(access_token.encode("ascii")).digest())


def _sign(key: dict, claims: dict, headers: dict) -> str:
    private = ECAlgorithm.from_jwk(json.dumps(key))
    return jwt.encode(claims, private, algorithm="ES256", headers=headers)


def assertion(key: dict, client_id: str, audience: str, now: float | None = None
              ) -> str:
    """A client assertion (RFC 7523 §3): ``iss`` = ``sub`` = the client id, ``aud``
    the issuer identifier alone (FAPI 2.0 SP §5.3.2.1), short ``exp``, fresh ``jti``."""
    now = int(now or time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now,
              "exp": now + 60, "jti": secrets.token_urlsafe(16)}
    return _sign(key, claims, {"typ": "JWT", "kid": thumbprint(key)})


def proof(key: dict, method: str, url: str, nonce: str | None = None,
          access_token: str | None = None) -> str:
    """A DPoP proof (RFC 9449 §4.2): ``typ: dpop+jwt``, the public ``jwk`` in the
    header; ``jti``, ``htm``, ``htu`` (no query or fragment), ``iat``; the
    server's ``nonce`` once it gave one; ``ath`` when sent with an access token."""
    claims = {"jti": secrets.token_urlsafe(16), "htm": method,
              "htu": url.split("?")[0].split("#")[0], "iat": int(time.time())}
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["ath"] = ath(access_token)
    return _sign(key, claims, {"typ": "dpop+jwt", "jwk": public(key)})


def decoded(token: str) -> tuple[dict, dict]:
    """A JWS's header and claims, unverified: for showing what was sent or got."""
    try:
        return (jwt.get_unverified_header(token),
                jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        return {}, {}
