"""The JWT workbench: a JWS's signature checked against a pasted JWK Set, JWK or
PEM, a pasted HMAC secret, or the issuer's ``jwks_uri`` found by discovery, with
PyJWT and ``cryptography`` only.

The key decides, never the token (RFC 8725 §2.1, §3.1): ``alg: none`` is refused,
each key is used only with an algorithm of its own type (an RSA key never as an
HMAC secret), and a key's own ``alg``, when it has one, must be the token's. The
header's ``kid`` picks the key (RFC 7515 §4.1.4); without one, each key of the
right type is tried, and the answer says which was picked and why each other key
was not. Nothing pasted is kept, and a secret is shown only masked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import ECAlgorithm
from jwt.algorithms import OKPAlgorithm
from jwt.algorithms import RSAAlgorithm

from flowlab.core import ROOT
from flowlab.core import tomlcache
from flowlab.core.redact import mask

TEXTS = tomlcache.read(ROOT / "content" / "inspect" / "workbench.toml")["jwt"]

# The key type each JWS algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1).
KTY = {**dict.fromkeys(("HS256", "HS384", "HS512"), "oct"),
       **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
       **dict.fromkeys(("ES256", "ES384", "ES512", "ES256K"), "EC"),
       "EdDSA": "OKP", "Ed25519": "OKP"}
CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521",
         "ES256K": "secp256k1"}  # RFC 7518 §3.4, RFC 8812 §3.2
PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth")  # RFC 7518 §6.2.2, §6.3.2
CHECK_ONLY_THE_SIGNATURE = {"verify_exp": False, "verify_nbf": False,
                            "verify_iat": False, "verify_aud": False,
                            "verify_iss": False}


@dataclass
class Verdict:
    """What the workbench found: the header and claims, one line per key tried
    (``tried``: ``{kid, kty, alg, outcome, why}``), how the key was chosen, and
    whether a key verified the signature."""

    header: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)
    tried: list[dict] = field(default_factory=list)
    choice: str = ""
    valid: bool = False
    problem: str = ""
    source: str = ""


def keys_from_text(text: str) -> list[dict]:
    """JWKs from a pasted JWK Set, one JWK, or a PEM public key (or certificate's
    key); private members dropped. ValueError says what could not be read."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return [pem_jwk(text)]
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(TEXTS["not_a_key"]) from None
    found = data.get("keys") if isinstance(data, dict) and "keys" in data else [data]
    if not isinstance(found, list) or not all(isinstance(k, dict) and "kty" in k
                                              for k in found):
        raise ValueError(TEXTS["not_a_set"].format())
    return [{k: v for k, v in key.items() if key["kty"] == "oct" or k not in PRIVATE}
            for key in found]


def pem_jwk(text: str) -> dict:
    """A PEM public key as a JWK (RSA, EC or OKP)."""
    try:
        public = load_pem_public_key(text.encode("ascii"))
    except ValueError:
        raise ValueError(TEXTS["not_public_pem"]) from None
    for kind, algorithm in ((rsa.RSAPublicKey, RSAAlgorithm),
                            (ec.EllipticCurvePublicKey, ECAlgorithm),
                            ((ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
                             OKPAlgorithm)):
        if isinstance(public, kind):
            return algorithm.to_jwk(public, as_dict=True)
    raise ValueError(TEXTS["pem_type"])


def secret_jwk(secret: str) -> dict:
    """A pasted HMAC secret as an oct JWK; a public key pasted as the secret is
    refused (the algorithm confusion of RFC 8725 §2.1)."""
    if "-----BEGIN" in secret or secret.lstrip().startswith(("ssh-", "{")):
        raise ValueError(TEXTS["secret_is_public"])
    return {"kty": "oct", "k": jwt.utils.base64url_encode(secret.encode()).decode(),
            "kid": None, "masked": mask(secret)}


def verify(token: str, keys: list[dict], source: str) -> Verdict:
    """Check ``token``'s signature with ``keys`` (from ``source``, said in the
    answer), as the module docstring says."""
    verdict = Verdict(source=source)
    try:
        verdict.header = jwt.get_unverified_header(token)
        verdict.claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        verdict.problem = TEXTS["not_jws"]
        return verdict
    alg, kid = verdict.header.get("alg"), verdict.header.get("kid")
    if not isinstance(alg, str) or alg.lower() == "none" or alg not in KTY:
        verdict.problem = TEXTS["alg_refused"].format(alg=json.dumps(alg))
        return verdict
    if not keys:
        verdict.problem = TEXTS["no_key"]
        return verdict
    candidates = _choose(verdict, keys, alg, kid)
    for key in candidates:
        line = _try(token, key, alg)
        verdict.tried.append(line)
        if line["outcome"] == "valid":
            verdict.valid = True
            break
    return verdict


def _choose(verdict: Verdict, keys: list[dict], alg: str, kid) -> list[dict]:
    """The keys to try: the one the ``kid`` names, else each of the right type."""
    need = KTY[alg]
    if kid is not None:
        named = [k for k in keys if k.get("kid") == kid]
        if named:
            verdict.choice = TEXTS["kid_named"].format(kid=json.dumps(kid),
                                                       count=len(keys))
            return named
        if any(k.get("kid") for k in keys):
            others = ", ".join(json.dumps(k.get("kid")) for k in keys)
            verdict.choice = TEXTS["no_such_kid"].format(kid=json.dumps(kid),
                                                         others=others)
            verdict.tried = [_line(k, "not tried", TEXTS["other_kid"]) for k in keys]
            return []
    right = [k for k in keys if k["kty"] == need]
    verdict.choice = TEXTS["no_kid" if kid is None else "kid_unnamed"].format(
        need=need, right=len(right), count=len(keys))
    verdict.tried = [_try("", k, alg) for k in keys if k["kty"] != need]
    return right


def _line(key: dict, outcome: str, why: str) -> dict:
    return {"kid": key.get("kid"), "kty": key.get("kty"), "alg": key.get("alg"),
            "outcome": outcome, "why": why, "masked": key.get("masked")}


def _try(token: str, key: dict, alg: str) -> dict:
    """One key against the signature, only with an algorithm of its own type
    (so a key of another type is refused before ``token`` is read)."""
    need, curve = KTY[alg], CURVE.get(alg)
    if key["kty"] != need:
        return _line(key, "kty mismatch", TEXTS["kty_mismatch"].format(
            kty=key["kty"], alg=alg, need=need))
    if curve and key.get("crv") != curve:
        return _line(key, "crv mismatch", TEXTS["crv_mismatch"].format(
            crv=key.get("crv"), alg=alg, curve=curve))
    if key.get("use", "sig") != "sig":
        return _line(key, "use mismatch", TEXTS["use_mismatch"].format(
            use=key["use"]))
    if key.get("alg") and key["alg"] != alg:
        return _line(key, "alg mismatch", TEXTS["alg_mismatch"].format(
            key_alg=key["alg"], alg=alg))
    jwk = {k: v for k, v in key.items() if k != "masked" and v is not None}
    try:
        prepared = jwt.PyJWK(jwk, algorithm=alg).key
        jwt.decode(token, prepared, algorithms=[alg],
                   options=CHECK_ONLY_THE_SIGNATURE)
    except jwt.InvalidSignatureError:
        return _line(key, "signature invalid", TEXTS["signature_invalid"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        return _line(key, "unusable", f"{type(exc).__name__}: {exc}")
    return _line(key, "valid", TEXTS["valid"].format(alg=alg))
