"""DPoP proofs (RFC 9449 §4), checked at the token endpoint and at the API.

A proof is a JWS the client signs with its own key and sends in one ``DPoP`` header:
header ``typ: dpop+jwt``, an asymmetric ``alg``, the public ``jwk``; claims ``jti``,
``htm``, ``htu``, ``iat``, the server's ``nonce``, and at a resource ``ath`` (§4.2).
:func:`check` runs §4.3's checks in order and returns the key's RFC 7638 thumbprint,
the ``jkt`` a token is bound to (§6.1). PyJWT verifies the signature.

Nonces (§8, §9) are an HMAC of the current five-minute window under the app's
secret and the issuer's mark: any process can make and check them, nothing is
stored. A proof's ``jti`` is accepted once (§11.1), in the replay cache every
process shares (``once``). A refusal raises :class:`ProofError` before anything
else happens, so it consumes no code and no refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlsplit

import jwt

from flowlab.core.hosts import constant_time_equal
from flowlab.sandbox import keys
from flowlab.sandbox import once

ALGS = ("ES256", "RS256", "PS256")  # asymmetric only, never "none" (§4.3 point 5)
IAT_WINDOW = 60  # seconds a proof's iat may be off either way (§4.3 point 11)
NONCE_PERIOD = 300  # a nonce is good for this window and the one before
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")  # RFC 7518 §6
INVALID, USE_NONCE = "invalid_dpop_proof", "use_dpop_nonce"


class ProofError(Exception):
    """A proof refused: ``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ath(access_token: str) -> str:
    """base64url SHA-256 of the access token's ASCII (§4.2)."""
    return _b64u(hashlib.sha256(access_token.encode()).digest())


def nonce(secret: str, mark: str, ago: int = 0) -> str:
    """The nonce of the current window (``ago`` windows back) for one issuer."""
    window = int(time.time() // NONCE_PERIOD) - ago
    message = f"dpop-nonce|{mark}|{window}".encode()
    return _b64u(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def _nonce_ok(secret: str, mark: str, value) -> bool:
    return isinstance(value, str) and any(
        constant_time_equal(value, nonce(secret, mark, ago)) for ago in (0, 1))


def _target(url: str) -> tuple[str, str, str]:
    """Scheme, host and path: query and fragment are ignored (§4.3 point 9)."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower(), parts.path


def _bad(description: str) -> ProofError:
    return ProofError(INVALID, description)


def _verified(proof: str) -> tuple[dict, dict]:
    """Header and claims of a well-formed proof signed by its own ``jwk``."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        raise _bad("The DPoP proof is not a JWS") from None
    if header.get("typ") != "dpop+jwt":
        raise _bad("The DPoP proof's typ must be dpop+jwt")
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in ALGS:
        raise _bad("The DPoP proof's alg must be one of " + " ".join(ALGS))
    if not isinstance(jwk, dict) or any(name in jwk for name in PRIVATE_MEMBERS):
        raise _bad("The DPoP proof's jwk must be a public key")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        claims = jwt.decode(proof, key.key, algorithms=[alg], options={
            "verify_aud": False, "verify_iat": False, "verify_exp": False,
            "verify_nbf": False, "require": ["jti", "htm", "htu", "iat"]})
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise _bad("The DPoP proof's signature or claims are invalid") from None
    return header, claims


def check(conn, proofs: list[str], method: str, url: str, *, secret: str,
          mark: str, access_token: str | None = None) -> str:
    """Check the ``DPoP`` header values of a request to ``method`` ``url`` (§4.3);
    with ``access_token`` (at a resource), its ``ath`` too (§7.1). Returns the
    key's thumbprint (``jkt``), or raises :class:`ProofError`."""
    if len(proofs) != 1:
        raise _bad("Send exactly one DPoP header")
    header, claims = _verified(proofs[0])
    if claims["htm"] != method:
        raise _bad("The DPoP proof's htm does not match the request's method")
    if not isinstance(claims["htu"], str) or _target(claims["htu"]) != _target(url):
        raise _bad("The DPoP proof's htu does not match the request's URL")
    iat, jti = claims["iat"], claims["jti"]
    if not isinstance(iat, int | float) or abs(time.time() - iat) > IAT_WINDOW:
        raise _bad("The DPoP proof's iat is too far from now")
    if not isinstance(jti, str) or not jti:
        raise _bad("The DPoP proof needs a jti")
    if not _nonce_ok(secret, mark, claims.get("nonce")):
        raise ProofError(USE_NONCE, "Authorization server requires nonce in DPoP"
                         " proof" if access_token is None else
                         "Resource server requires nonce in DPoP proof")
    if access_token is not None and not (
            isinstance(claims.get("ath"), str)
            and constant_time_equal(claims["ath"], ath(access_token))):
        raise _bad("The DPoP proof's ath does not match the access token")
    jkt = keys.thumbprint(header["jwk"])
    if not once.use_once(conn, "dpop-jti", f"{jkt} {jti}", iat + IAT_WINDOW + 1):
        raise _bad("This DPoP proof was used before (its jti)")
    return jkt


def metadata(settings) -> dict:
    """RFC 9449 §5.1's metadata field, where DPoP is offered."""
    if settings.dpop == "off":
        return {}
    return {"dpop_signing_alg_values_supported": list(ALGS)}
