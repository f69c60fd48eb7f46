"""The sandbox API as a protected resource: its RFC 9728 metadata, its 401
challenge, and the audience check of RFC 9068 §4, at issuers whose profile has
``protected_resource``. The Spotify-like issuer keeps Spotify's API as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import jwt

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
    issuer offers DPoP (``settings.dpop_signing_alg_values``, RFC 9449 §5.1)."""
    found = {"resource": api_of(issuer), "authorization_servers": [issuer],
             "scopes_supported": scopes, "bearer_methods_supported": ["header"],
             "resource_name": "Sandbox Web API",
             "resource_documentation": issuer + "/"}
    if settings.dpop_signing_alg_values:
        found["dpop_signing_alg_values_supported"] = list(
            settings.dpop_signing_alg_values)
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
    of this issuer, signed, unexpired, with this API in ``aud``. Returns its
    claims; DPoP's ``ath`` and ``cnf`` checks belong after this one."""
    try:
        return jwtat.verify(conn, settings, token, issuer, api_of(issuer))
    except jwt.PyJWTError as exc:
        raise ApiError(401, "Invalid access token") from exc
