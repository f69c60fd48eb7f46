"""An independent OpenID Connect relying party: plain ``requests`` and
``cryptography``, importing nothing from the project. It finds the issuer's keys by
discovery, rebuilds the public key from the JWK by hand, and validates an id_token
as OIDC Core §3.1.3.7 (errata set 2) has it."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64decode(text: str) -> bytes:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int(text: str) -> int:
    return int.from_bytes(b64decode(text), "big")


def discover(issuer: str) -> dict:
    """OIDC Discovery §4: the configuration at ``{issuer}/.well-known/...``."""
    response = requests.get(issuer + "/.well-known/openid-configuration", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def public_key(jwk: dict):
    """An RSA (RFC 7518 §6.3.1) or P-256 (§6.2.1) public key from its members."""
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    return ec.EllipticCurvePublicNumbers(
        _int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1()).public_key()


def verify_signature(token: str, jwks: dict, alg: str) -> dict:
    """The header, once the signature verifies with the key its ``kid`` names."""
    head, body, signature = token.split(".")
    header = json.loads(b64decode(head))
    assert header["alg"] == alg != "none"
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    key, signed, raw = public_key(jwk), f"{head}.{body}".encode(), b64decode(signature)
    if alg == "RS256":
        key.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
    else:  # ES256: r and s, 32 bytes each (RFC 7518 §3.4)
        assert len(raw) == 64
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    return header


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of SHA-256 of the token's ASCII, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def validate_id_token(token: str, issuer: str, client_id: str, nonce: str | None,
                      access_token: str, alg: str = "RS256") -> tuple[dict, dict]:
    """OIDC Core §3.1.3.7 in order: iss, aud, signature by ``kid`` from
    ``jwks_uri``, alg, exp, iat, nonce; then at_hash. Header and claims."""
    config = discover(issuer)
    claims = json.loads(b64decode(token.split(".")[1]))
    assert claims["iss"] == issuer
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert audience == [client_id]
    assert "azp" not in claims  # errata set 2: only for extensions beyond Core
    jwks = requests.get(config["jwks_uri"], timeout=5).json()
    header = verify_signature(token, jwks, alg)
    now = time.time()
    assert claims["exp"] > now and claims["iat"] <= now + 5
    assert claims.get("nonce") == nonce
    assert claims["at_hash"] == at_hash(access_token)
    return header, claims
