"""The sandbox API as a protected resource, at issuers whose profile says so:
its RFC 9728 metadata, its 401 challenge with ``resource_metadata`` (§5.1), its
audience check (RFC 9068 §4), and the JWK Set its tokens verify with.

``check`` is where the API checks a token beyond its record: DPoP's ``ath`` and
key binding (RFC 9449 §7) belong right after the audience check there.
"""

from __future__ import annotations

import json

from flask import Flask
from flask import Response
from flask import request

from flowlab.sandbox import keys
from flowlab.sandbox import protected
from flowlab.sandbox.bearer import bearer_challenge
from flowlab.sandbox.issuers import IssuerProfiles
from flowlab.sandbox.resources import api_of
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import settings

JWKS = "/.well-known/jwks.json"
JSON = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}


def register(app: Flask, profiles: IssuerProfiles) -> None:
    """Each issuer's JWK Set (``jwks_uri``) if it signs JWTs (access tokens or
    id_tokens), and its API's RFC 9728 §3.1 metadata URL if that API is a
    protected resource."""
    for profile in profiles.all:
        suffix = profile.endpoint_suffix(profiles.default)
        if profile.access_tokens == "jwt" or profile.oidc:
            name = "sandbox_jwks" + suffix
            profiles.by_endpoint[name] = profile
            app.add_url_rule(profile.path + JWKS, name, jwks)
        if profile.protected_resource:
            name = "sandbox_rfc9728_metadata" + suffix
            profiles.by_endpoint[name] = profile
            app.add_url_rule(protected.WELL_KNOWN + api_of(profile.path), name,
                             resource_metadata)


def jwks() -> Response:
    """The keys that sign the issuer's tokens (RFC 7517 §5, RFC 9068 §4, OIDC
    Core §10.1.1: the older of each alg kept after a rotation); never a private
    member. Not cached, so a rotation shows at once."""
    found = keys.jwks(DB.get(), settings().signing_secret)
    return Response(json.dumps(found), 200, {**JSON, "Cache-Control": "no-cache"})


def resource_metadata() -> Response:
    """Protected resource metadata of the issuer's API (RFC 9728 §3.2)."""
    found = protected.document(settings(), issuer(), sorted(catalogue().scopes))
    return Response(json.dumps(found, indent=2), 200, JSON)


def challenge(message: str | None) -> str:
    """The API's 401 challenge: Spotify's, or RFC 9728 §5.1's at issuers whose
    API is a protected resource."""
    if settings().protected_resource:
        return protected.challenge(issuer(), message)
    return bearer_challenge(message)


def check() -> dict | None:
    """The token's claims once the API has checked them against its own audience
    (RFC 9068 §4); None where the API is Spotify's (opaque tokens, no audience)."""
    if not settings().protected_resource:
        return None
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return protected.check_audience(DB.get(), settings(), token, issuer())
