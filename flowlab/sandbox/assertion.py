"""private_key_jwt: a client authenticates with a JWT it signed (RFC 7523 §2.2, §3;
RFC 7521 §4.2; OIDC Core §9).

The form carries ``client_assertion_type`` (the jwt-bearer URN) and
``client_assertion``. The JWT is signed with a key the client registered (the one
its ``kid`` names), by an asymmetric alg (never ``none`` or HS*); ``iss`` = ``sub`` =
the client id; ``aud`` is this issuer's identifier and nothing else: not the token
endpoint's URL, nor an array holding another value (the 2025 audience-injection
fix, FAPI 2.0 SP §5.3.2.1; draft-ietf-oauth-rfc7523bis allows a one-element array,
which the profile's ``assertion_aud_array`` accepts). ``exp`` is required and at most
``MAX_LIFETIME`` ahead, ``iat`` and ``nbf`` not in the future, and the ``jti`` counts
once across every process (``once.use_once``). ``typ`` may be ``JWT``,
``client-authentication+jwt`` or absent.

Before the signature is checked, every failure reads "Invalid client", so that a
probe learns nothing of which ids exist (RFC 6819 §5.1.4.2.2); after it, the
description says which rule the assertion broke.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import jwt
from oauthlib.oauth2.rfc6749 import errors

from flowlab.sandbox import registrations
from flowlab.sandbox.clientreg import ASSERTION_ALGS
from flowlab.sandbox.once import use_once
from flowlab.sandbox.store import Client
from flowlab.sandbox.store import get_client

TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TYPS = ("jwt", "client-authentication+jwt")
MAX_LIFETIME = 600  # seconds from now to exp
LEEWAY = 60  # clock skew allowed on exp, nbf and iat
FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


def presented(request) -> bool:
    """Whether the request authenticates with an assertion (RFC 7521 §4.2)."""
    return any(getattr(request, name, None) is not None
               for name in ("client_assertion", "client_assertion_type"))


def claimed_client(request) -> str:
    """The client id the assertion claims, unverified: for counting failures."""
    try:
        iss = jwt.decode(getattr(request, "client_assertion", None) or "",
                         options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        iss = None
    return iss if isinstance(iss, str) else (request.client_id or "")


def issuer_of(request, settings) -> str:
    """The issuer identifier: the origin the client called, and the issuer's path
    (as the metadata has it, RFC 8414 §2)."""
    parts = urlsplit(request.uri)
    return f"{parts.scheme}://{parts.netloc}{settings.issuer_path}"


def _refuse(request, description: str = "Invalid client"):
    return errors.InvalidClientError(description=description, request=request)


def _keys(client: Client, header: dict, alg: str) -> list[jwt.PyJWK]:
    """The registered keys that may have signed: the one ``kid`` names, else each
    key of the alg's family (RFC 7515 §4.1.4)."""
    found = []
    for key in json.loads(client.jwks or '{"keys": []}')["keys"]:
        if "kid" in header and key.get("kid") != header["kid"]:
            continue
        if key.get("kty") != FAMILY[alg[:2]] or key.get("alg", alg) != alg:
            continue
        found.append(jwt.PyJWK(key, algorithm=alg))
    return found


def _signed_claims(token: str, client: Client, header: dict, alg: str, request):
    for key in _keys(client, header, alg):
        try:
            return jwt.decode(token, key.key, algorithms=[alg], leeway=LEEWAY,
                              options={"verify_aud": False, "verify_iat": False,
                                       "require": ["exp", "jti", "aud"]})
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise _refuse(request, f"Invalid client assertion: {exc}") from None
    raise _refuse(request)


def _audience_ok(aud, issuer: str, settings, inside: bool) -> bool:
    """``aud`` is the issuer, or (``assertion_aud_array``) a list of it alone. On
    the runner's back channel (``inside``) the request came to an internal origin,
    so the issuer's path on any origin stands for the run's issuer."""
    if settings.assertion_aud_array and isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if aud == issuer:
        return True
    parts = urlsplit(aud) if isinstance(aud, str) else None
    return bool(inside and parts and parts.scheme in ("http", "https")
                and parts.netloc and parts.path == settings.issuer_path
                and not parts.query and "#" not in aud)


def _check_claims(claims: dict, issuer: str, settings, request,
                  inside: bool) -> None:
    aud, now = claims["aud"], time.time()
    if not _audience_ok(aud, issuer, settings, inside):
        raise _refuse(request, "Invalid client assertion: aud must be the issuer "
                      f"identifier {issuer} alone, not the token endpoint's URL or "
                      "a list of audiences (RFC 7523 §3, FAPI 2.0 SP §5.3.2.1)")
    if claims["exp"] > now + MAX_LIFETIME:
        raise _refuse(request, "Invalid client assertion: exp is more than "
                      f"{MAX_LIFETIME} seconds ahead (RFC 7523 §3)")
    iat = claims.get("iat")
    if iat is not None and (not isinstance(iat, (int, float)) or iat > now + LEEWAY):
        raise _refuse(request, "Invalid client assertion: iat is in the future")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise _refuse(request, "Invalid client assertion: jti must be a string")


def verify(conn, request, settings, local: bool = False,
           inside: bool = False) -> Client:
    """The client a ``client_assertion`` authenticates, else ``invalid_client``
    (RFC 7523 §3, RFC 7521 §4.2). The PAR endpoint calls this too, through
    ``clientauth.authenticate``. A key not known yet is looked for again at the
    client's ``jwks_uri``, only for a ``local`` requester (RFC 7591 §5);
    ``inside``: the runner's back channel (``_audience_ok``)."""
    if {"client_assertion", "client_assertion_type"} & set(
            getattr(request, "duplicate_params", ())):
        raise errors.InvalidRequestError(description="Send each parameter once",
                                         request=request)
    token = getattr(request, "client_assertion", None)
    if getattr(request, "client_assertion_type", None) != TYPE or not token:
        raise _refuse(request, f"client_assertion_type must be {TYPE}, with a "
                      "client_assertion (RFC 7521 §4.2)")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _refuse(request, "client_assertion is not a signed JWT") from None
    alg, typ = header.get("alg"), header.get("typ")
    if alg not in ASSERTION_ALGS or (typ is not None and str(typ).lower() not in TYPS):
        raise _refuse(request, "client_assertion must be signed with "
                      + ", ".join(ASSERTION_ALGS) + " and typed JWT, "
                      "client-authentication+jwt or not at all (RFC 7523 §3)")
    cid = unverified.get("iss")
    if not isinstance(cid, str) or unverified.get("sub") != cid or (
            request.client_id and request.client_id != cid):
        raise _refuse(request, "Invalid client assertion: iss and sub must both be "
                      "the client id (RFC 7523 §3)")
    client = get_client(conn, cid)
    if client is None or client.auth_method != "private_key_jwt":
        raise _refuse(request)
    if client.jwks_uri and local and not _keys(client, header, alg):
        client = registrations.refresh_keys(conn, client)
    claims = _signed_claims(token, client, header, alg, request)
    _check_claims(claims, issuer_of(request, settings), settings, request, inside)
    if not use_once(conn, "client-assertion", f"{cid}|{claims['jti']}",
                    claims["exp"] + LEEWAY):
        raise _refuse(request, "Invalid client assertion: this jti was used "
                      "before; sign a new assertion for each request (RFC 7523 §3)")
    return client
