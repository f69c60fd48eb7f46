"""A lab's own music API, for variants with ``api = "lab"``: a resource server
outside the sandbox, at ``/labs/<id>/<variant>/api/v1``, that checks the JWT access
tokens of the variant's issuer as RFC 9068 §4 says, with its keys from the issuer's
``jwks_uri``, and DPoP proofs as RFC 9449 §4.3 and §7.1 say. The sandbox's own API
is left as it is.

Two switches, the variant's ``server`` table, weaken it:

- ``audience_check = false``: a token minted for another resource is accepted (the
  check RFC 8707 §2, RFC 9068 §4 point 3 and RFC 9700 §4.10.2 ask for; lab
  "token-passthrough").
- ``dpop_replay_check = false``: a proof's ``jti`` is not remembered, so the same
  proof is accepted again while its ``iat`` is recent (RFC 9449 §11.1; lab
  "dpop-replay"). With the check, each ``jti`` is accepted once. This API never
  asks for a DPoP nonce (§9).

A run against the learner's weak server ("yours") has no ``server`` table: its
switches are those of the saved configuration the token's client carries
(``client_id``, RFC 9068 §2.2), read once the token is verified, as the weak issuer
reads its client's (``weak_issuer``). A token of any other client gets every check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import jwt
import requests

from flowlab.core import outbound
from flowlab.core.http import s256
from flowlab.core.storage.db import LAB
from flowlab.labs import weak
from flowlab.labs.catalogue import Lab
from flowlab.labs.catalogue import Variant
from flowlab.labs.client import server_path
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run
from flowlab.labs.weak_issuer import configuration_of
from flowlab.sandbox.public import DB
from flowlab.sandbox.public import thumbprint
from flowlab.sandbox.public import use_once

SERVED = ("me",)  # the one call the labs make (Spotify's /v1/me)
PROOF_ALGS = ("ES256", "RS256", "PS256")
IAT_WINDOW = 300  # seconds a proof stays acceptable here (the sandbox's: 60)
JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


class Refused(Exception):
    """A 401: ``scheme`` and ``error`` make the challenge (RFC 6750 §3, RFC 9449
    §7.1); no error where no token came."""

    def __init__(self, message: str, scheme: str = "Bearer",
                 error: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.scheme, self.error = scheme, error


def api_base(origin: str, lab_id: str, variant: str) -> str:
    """The lab API's resource identifier (RFC 8707 §2): its base URL."""
    return f"{origin}/labs/{lab_id}/{variant}/api/v1"


def me_url(run: Run, lab: Lab) -> str:
    """Where a run's client reads the account: the lab's own API with ``api =
    "lab"``, else its issuer's API (Spotify's ``/v1/me``)."""
    if lab.variants[run.variant].api == "lab":
        return api_base(run.backchannel, lab.id, run.variant) + "/me"
    return run.backchannel + server_path(run, lab) + "/v1/me"


def _keys(issuer: str, config: Mapping) -> list[dict]:
    """The issuer's published keys, fetched from its ``jwks_uri`` (RFC 9068 §4)."""
    with outbound.limits(float(config["HTTP_TIMEOUT"])):
        answer = outbound.session().get(issuer + "/.well-known/jwks.json",
                                        timeout=config["HTTP_TIMEOUT"])
    return answer.json().get("keys", []) if answer.ok else []


def _access_token(token: str, issuer: str, config: Mapping) -> dict:
    """The claims of a JWT access token of ``issuer``: typ, a published key, the
    pinned alg, exp, iss (RFC 9068 §4); its ``aud`` is ``_audience_ok``'s."""
    try:
        header = jwt.get_unverified_header(token)
        jwk = next((k for k in _keys(issuer, config)
                    if k.get("kid") == header.get("kid")), None)
        if jwk is None or header.get("typ") != "at+jwt":
            raise Refused("Invalid access token")
        return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]],
                          issuer=issuer, options={
                              "verify_aud": False,
                              "require": ["exp", "iss", "aud", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Refused("The access token expired") from None
    except (jwt.PyJWTError, requests.RequestException, ValueError, KeyError):
        raise Refused("Invalid access token") from None


def _audience_ok(claims: dict, audience: str) -> None:
    """The token names this API in its ``aud`` (RFC 9068 §4 point 3, RFC 8707
    §2)."""
    named = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if audience not in named:
        raise Refused("The access token is for another audience")


def _switches(variant: Variant, claims: dict, switches: weak.Switches) -> Mapping:
    """The variant's ``server`` table; for a run against the learner's server, the
    switches of the configuration the token's client carries, or none."""
    if variant.name != weak.YOURS:
        return variant.server
    configuration = configuration_of(claims.get("client_id"))
    found = configuration and weak.get(LAB.get(), configuration)
    return switches.overrides(found.switches) if found else {}


def _proof(sent: Incoming, token: str, jkt: str, replay_check: bool) -> None:
    """The DPoP proof of an API request (RFC 9449 §4.3, §7.1): one header, its
    own public key, method, URL, a recent iat, ath, the token's key; its jti
    once, if ``replay_check``."""
    def bad(message: str) -> Refused:
        return Refused(message, "DPoP", "invalid_dpop_proof")

    proofs = sent.header("DPoP")
    if len(proofs) != 1:
        raise bad("Send exactly one DPoP header")
    try:
        header = jwt.get_unverified_header(proofs[0])
        jwk, alg = header.get("jwk"), header.get("alg")
        if (header.get("typ") != "dpop+jwt" or alg not in PROOF_ALGS
                or not isinstance(jwk, dict) or "d" in jwk):
            raise bad("The DPoP proof's typ, alg or jwk is wrong")
        claims = jwt.decode(proofs[0], jwt.PyJWK(jwk, algorithm=alg).key,
                            algorithms=[alg], options={
                                "verify_iat": False,
                                "require": ["jti", "htm", "htu", "iat", "ath"]})
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise bad("The DPoP proof's signature or claims are invalid") from None
    if claims["htm"] != sent.method or claims["htu"] != sent.base_url:
        raise bad("The DPoP proof's htm or htu does not match the request")
    if abs(time.time() - float(claims["iat"])) > IAT_WINDOW:
        raise bad("The DPoP proof's iat is too far from now")
    if claims["ath"] != s256(token):  # base64url SHA-256, as §4.2
        raise bad("The DPoP proof's ath does not match the access token")
    if thumbprint(jwk) != jkt:
        raise bad("The access token is not bound to the proof's key")
    if replay_check and not use_once(DB.get(), "lab-dpop-jti", f"{jkt} {claims['jti']}",
                                     float(claims["iat"]) + IAT_WINDOW + 1):
        raise bad("This DPoP proof was used before (its jti)")


def _refusal(exc: Refused) -> Answer:
    challenge = exc.scheme
    if exc.error:
        challenge += f' error="{exc.error}", error_description="{exc}"'
    body = {"error": {"status": 401, "message": str(exc)}}
    return Answer(401, json.dumps(body), {**JSON, "WWW-Authenticate": challenge})


def serve(lab: Lab, variant_name: str, endpoint: str, config: Mapping,
          sent: Incoming, weak_switches: weak.Switches) -> Answer:
    """``GET /v1/<endpoint>`` at the lab's API, for a variant that has one: the
    account a valid token reads, or a 401 with its challenge; ``weak_switches``
    are those a learner's weak server may have on."""
    variant = lab.variants[variant_name]
    if variant.api != "lab" or endpoint not in SERVED or sent.method != "GET":
        return NOT_FOUND
    origin = sent.host_url.rstrip("/")
    scheme, _, token = (sent.header("Authorization") or [""])[0].partition(" ")
    token = token.strip()
    try:
        if scheme.lower() not in ("bearer", "dpop") or not token:
            raise Refused("No token provided", error=None)
        claims = _access_token(token, origin + variant.issuer_path, config)
        switches = _switches(variant, claims, weak_switches)
        if switches.get("audience_check", True):
            _audience_ok(claims, api_base(origin, lab.id, variant_name))
        jkt = (claims.get("cnf") or {}).get("jkt")
        if jkt and scheme.lower() != "dpop":
            raise Refused("This token is DPoP-bound: send it with the DPoP scheme"
                          " and a proof")
        if scheme.lower() == "dpop":
            _proof(sent, token, jkt or "", switches.get("dpop_replay_check", True))
    except Refused as exc:
        return _refusal(exc)
    return Answer(200, json.dumps({"id": claims["sub"], "type": "user",
                                   "scope": claims.get("scope", "")}), JSON)
