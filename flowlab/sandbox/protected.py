"""The sandbox API as a protected resource: its RFC 9728 metadata, its 401
challenge, and the audience check of RFC 9068 §4, at issuers whose profile has
``protected_resource``. The Spotify-like issuer keeps Spotify's API as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import jwt

from flowlab.sandbox import dpop
from flowlab.sandbox import jwtat
from flowlab.sandbox.bearer import ApiError
from flowlab.sandbox.resources import api_of

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_url(issuer: str) -> str:
    """RFC 9728 §3.1: the well-known segment between host and the resource's path."""
    parts = urlsplit(api_of(issuer))
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path}"


def document(settings, issuer: str, scopes: list[str]) -> dict:
    """RFC 9728 §2: the API's resource identifier, who issues its tokens, its
    scopes, Bearer in the header only (RFC 6750 §2.1); DPoP's algorithms where the
    issuer offers DPoP (RFC 9449 §5.1)."""
    found = {"resource": api_of(issuer), "authorization_servers": [issuer],
             "scopes_supported": scopes, "bearer_methods_supported": ["header"],
             "resource_name": "Sandbox Web API",
             "resource_documentation": issuer + "/"}
    found.update(dpop.metadata(settings))  # RFC 9728 §2, where DPoP is offered
    return found


def challenge(issuer: str, message: str | None) -> str:
    """A 401's ``WWW-Authenticate``: the error if a token came (RFC 6750 §3.1),
    and where the API's metadata is (RFC 9728 §5.1)."""
    pointer = f'resource_metadata="{metadata_url(issuer)}"'
    if message is None:
        return "Bearer " + pointer
    return (f'Bearer error="invalid_token", error_description="{message}", '
            + pointer)


def check_audience(conn, settings, token: str, issuer: str) -> dict:
    """The API's own check of a token whose record is live (RFC 9068 §4): a JWT
    signed here, unexpired, from this profile's issuer, with this API in ``aud``.
    Returns its claims; DPoP's ``ath`` and ``cnf`` checks belong after this one.

    One app answers at several addresses (the public one, the runner's private
    back channel; localhost or 127.0.0.1), and an issuer's URL follows the address
    a client used. So this API is itself at the call's address and at the address
    of the token's ``iss``: ``aud`` must name one of those. A token for any other
    resource, one that names this API's path at another host included, is refused.
    """
    try:
        claims = jwtat.verify(conn, settings, token)
    except jwt.PyJWTError as exc:
        raise ApiError(401, "Invalid access token") from exc
    iss = claims["iss"] if isinstance(claims["iss"], str) else ""
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if urlsplit(iss).path != settings.issuer_path:
        raise ApiError(401, "Invalid access token")
    if not {api_of(issuer), api_of(iss)} & set(aud):
        raise ApiError(401, "The access token is for another audience")
    return claims
