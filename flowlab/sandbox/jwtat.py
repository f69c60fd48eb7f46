"""JWT access tokens (RFC 9068) at the issuers whose profile says so.

The token is a JWS typed ``at+jwt``, signed with the sandbox's key
(``flowlab.sandbox.keys``, RS256 by default), carrying ``iss``, ``exp``, ``aud``,
``sub``, ``client_id``, ``iat``, ``jti``, ``scope`` and ``auth_time`` when known
(§2.2). Its digest is kept like any token's, so revocation and introspection work
as for opaque ones. ``iss`` names the issuer where an opaque token's mark would.

Claims hook: whatever a request check puts in ``request.access_token_claims`` (a
dict) is added to the token's claims, e.g. DPoP's ``cnf: {"jkt": …}`` (RFC 9449
§6.1) or token exchange's ``act`` (RFC 8693 §4.1). ``request.auth_time`` (seconds)
becomes ``auth_time`` when a check knows it.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

import jwt

from flowlab.sandbox import dpopbind
from flowlab.sandbox import keys
from flowlab.sandbox import resources

TYP = "at+jwt"
# Claims introspection takes from the token itself (RFC 7662 §2.2); the others
# come from the token's record.
INTROSPECTED = ("aud", "iss", "jti", "sub", "act", "cnf", "auth_time")


def issuer_of(settings, uri: str) -> str:
    """The issuer of a request to one of its endpoints: the host the client used
    and the profile's path (RFC 8414 §2), as the web side's ``issuer()``."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}{settings.issuer_path}"


def issuer_path(value: str) -> str | None:
    """The path of a JWT's ``iss``, None if ``value`` is no JWT. Unverified: only
    asked of a value found, by digest, among the tokens the sandbox issued."""
    if value.count(".") != 2:
        return None
    try:
        iss = jwt.decode(value, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return urlsplit(iss).path if isinstance(iss, str) else None


class AccessTokens:
    """The token generator of one issuer (oauthlib's ``BearerToken`` calls it),
    and the token request's audience check it needs first."""

    def __init__(self, validator) -> None:
        self.validator = validator
        self.settings = validator.settings

    def target(self, request) -> None:
        """Post-token: the audience, within what the grant allows (RFC 8707 §2.2)."""
        grant_id = getattr(request, "grant_id", None)
        allowed = (resources.granted(self.validator.conn, grant_id) if grant_id
                   else list(getattr(request, "resources", None) or []))
        request.audience = resources.audience(
            request, issuer_of(self.settings, request.uri), allowed)

    def __call__(self, request) -> str:
        issuer = issuer_of(self.settings, request.uri)
        audience = getattr(request, "audience", None) or resources.audience(
            request, issuer, list(getattr(request, "resources", None) or []))
        now = int(time.time())
        claims = {
            "iss": issuer, "exp": now + self.settings.token_ttl,
            "aud": audience[0] if len(audience) == 1 else audience,
            "sub": request.user or request.client_id,
            "client_id": request.client_id, "iat": now,
            "jti": secrets.token_urlsafe(16), "scope": " ".join(request.scopes or []),
        }
        if getattr(request, "auth_time", None):
            claims["auth_time"] = int(request.auth_time)
        jkt = dpopbind.jkt_of(request)  # the key of this request's proof
        if jkt:
            claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
        claims.update(getattr(request, "access_token_claims", None) or {})
        return sign(self.validator.conn, self.settings, claims)


def sign(conn, settings, claims: dict) -> str:
    """A JWS of ``claims`` typed ``at+jwt``, with the key of ``kid`` (§2.1)."""
    alg = settings.access_token_alg
    kid, key = keys.signing_key(conn, settings.signing_secret, alg)
    return jwt.encode(claims, key, algorithm=alg, headers={"typ": TYP, "kid": kid})


def verify(conn, settings, token: str) -> dict:
    """The claims of a JWT access token whose signature, typ and times hold (RFC
    9068 §4: typ, alg, a published key, exp); its iss and aud are the caller's to
    check. Raises ``jwt.PyJWTError``."""
    header = jwt.get_unverified_header(token)
    if header.get("typ", "").lower() not in (TYP, "application/" + TYP):
        raise jwt.InvalidTokenError("typ must be at+jwt")
    published = keys.jwks(conn, settings.signing_secret)["keys"]
    jwk = next((k for k in published if k["kid"] == header.get("kid")), None)
    if jwk is None:
        raise jwt.InvalidKeyError("unknown kid")
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]],
                      options={"require": ["exp", "iat", "iss", "aud", "sub"],
                               "verify_aud": False})


def introspected(found: dict | None, token: str) -> dict | None:
    """Introspection claims (RFC 7662 §2.2) with the JWT's own, for a JWT."""
    if found is None or issuer_path(token) is None:
        return found
    claims = jwt.decode(token, options={"verify_signature": False})
    return {**found, **{k: claims[k] for k in INTROSPECTED if k in claims}}
