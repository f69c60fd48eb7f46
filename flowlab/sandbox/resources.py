"""Resource indicators (RFC 8707): which resource servers a token is meant for.

``resource`` may come once or more at the authorization request (§2.1) and at the
token request (§2.2), each an absolute URI without a fragment, else
``invalid_target``. The grant keeps the resources the user approved; a token
request, a refresh included, may name some of them, never others. Without
``resource`` a token is for the issuer's own API, ``{issuer}/v1``. The resources
become the JWT access token's ``aud`` (RFC 9068 §2.2).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from oauthlib.oauth2.rfc6749 import errors
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.storage.sandbox_tables import grants


class InvalidTargetError(errors.OAuth2Error):
    """RFC 8707 §2: the resource is invalid, unknown or not granted."""

    error = "invalid_target"
    status_code = 400


def api_of(issuer: str) -> str:
    """The issuer's own API: the default audience, and the API's resource id."""
    return issuer + "/v1"


def absolute(value: str) -> bool:
    """An absolute URI with no fragment (RFC 8707 §2; RFC 3986 §4.3)."""
    parts = urlsplit(value)
    return (bool(parts.scheme) and parts.scheme.isascii() and bool(parts.netloc)
            and "#" not in value and not any(c.isspace() for c in value))


def _named(request, params: list[tuple[str, str]], name: str) -> list[str]:
    """Every value of ``name``; invalid_target unless each is absolute."""
    found = [value for key, value in params if key == name]
    for value in found:
        if not absolute(value):
            raise InvalidTargetError(
                description=f"{name} must be an absolute URI without a fragment",
                request=request)
    return found


def asked_at_authorize(request) -> dict:
    """Pre-auth: the resources asked for, kept on the request (RFC 8707 §2.1)."""
    request.resources = _named(request, request.uri_query_params, "resource")
    return {}


def asked_at_token(request, name: str = "resource") -> list[str]:
    """Pre-token: the resources asked for, before anything is used (§2.2)."""
    request.resources = _named(request, request.decoded_body or [], name)
    return request.resources


def granted(conn: Connection, grant_id: int | None) -> list[str]:
    """What the grant's authorization request named; [] for the default."""
    if grant_id is None:
        return []
    found = conn.execute(select(grants.c.resources)
                         .where(grants.c.id == grant_id)).scalar()
    return (found or "").split()


def remember(conn: Connection, grant_id: int, resources: list[str]) -> None:
    """Keep the approved resources with the grant (set once, at authorize)."""
    if resources:
        conn.execute(update(grants).where(grants.c.id == grant_id)
                     .values(resources=" ".join(resources)))


def audience(request, issuer: str, allowed: list[str]) -> list[str]:
    """The token's audience: what the token request names, within ``allowed``
    (the grant's resources, or the issuer's API by default); else ``allowed``."""
    allowed = allowed or [api_of(issuer)]
    asked = getattr(request, "resources", None) or []
    if not set(asked) <= set(allowed):
        raise InvalidTargetError(
            description="resource was not granted: a token may narrow its"
            " audience, never widen it", request=request)
    return list(dict.fromkeys(asked or allowed))
