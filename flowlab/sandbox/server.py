"""The oauthlib endpoints of the sandbox, assembled for one request.

Spotify's accounts service has no password or device grant, so this is a smaller
``Server``: authorization (code, token), token (code, client credentials, refresh),
revocation (RFC 7009) and introspection (RFC 7662), plus RFC 8414 metadata. The
device grant (RFC 8628) is the one extra grant, labelled as not in Spotify.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from dataclasses import field

from oauthlib.oauth2.rfc6749 import endpoints
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749 import grant_types
from oauthlib.oauth2.rfc6749.tokens import BearerToken

from flowlab.core.demo import DEVICE_GRANT
from flowlab.sandbox import client_documents
from flowlab.sandbox import clientreg
from flowlab.sandbox import device
from flowlab.sandbox import dpop
from flowlab.sandbox import dpopbind
from flowlab.sandbox import issuers as profiles
from flowlab.sandbox import oidc
from flowlab.sandbox import par
from flowlab.sandbox import pkce
from flowlab.sandbox import targeting

TOKEN_GRANTS = ("authorization_code", "refresh_token", "client_credentials")


@dataclass(frozen=True)
class Settings:
    """What the validator needs from the app's config and content."""

    code_ttl: int
    token_ttl: int
    failure_limit: int
    scopes: frozenset[str]
    # Off, as at Spotify since 2026: refresh keeps the refresh token. On (the
    # best-practice profile): public clients' refresh tokens rotate (RFC 9700 §4.14.2).
    rotate_refresh_tokens: bool = False
    # The rest come from the issuer's profile (content/sandbox/profiles.toml); the
    # defaults are the Spotify-like sandbox's.
    pkce_for_all: bool = False  # OAuth 2.1 §4.1.1; Spotify: public clients only
    invalid_client_status: int = 400  # RFC 6749 §5.2 says 401; Spotify sends 400
    # A challenged code redeemed without a verifier: Spotify says invalid_request
    # ("code_verifier required"); OAuth 2.1 §4.1.3 treats it as a failed grant.
    missing_verifier_error: str = "invalid_request"
    loopback_any_port: bool = True  # RFC 8252 §7.3
    token_prefix: str = ""  # marks this issuer's codes and tokens
    foreign_prefixes: tuple[str, ...] = ()  # the other issuers' marks
    oidc: bool = False  # OpenID Connect (flowlab.sandbox.oidc)
    id_token_alg: str = "RS256"  # unless the client registered another
    # Client ID metadata documents: a URL client_id names the client's own
    # document (flowlab.sandbox.client_documents); off, as at Spotify.
    client_id_metadata_documents: bool = False
    oidc_claims: tuple[str, ...] = ()  # what UserInfo may release (oidc.toml)
    issuer_path: str = ""  # the profile's path: a JWT's iss names its issuer
    # RFC 9068, RFC 8707, RFC 9728, RFC 8693 (flowlab.sandbox.targeting).
    access_tokens: str = "opaque"  # or "jwt"
    access_token_alg: str = "RS256"
    resource_indicators: bool = False
    protected_resource: bool = False  # the API checks aud, publishes RFC 9728
    token_exchange: bool = False
    signing_secret: str = field(default="", repr=False)  # the app's SECRET_KEY
    # Pushed authorization requests (RFC 9126) and DPoP (RFC 9449): "off" (as
    # Spotify), "offered" or "required" (FAPI 2.0 SP §5.3.2.1, §5.3.2.2).
    par: str = "off"
    dpop: str = "off"
    device_grant: bool = True  # RFC 8628; FAPI 2.0 has the code flow only
    implicit_grant: bool = True  # RFC 6749 §4.2; FAPI 2.0 SP §5.3.2.2: code only
    registration: bool = False  # RFC 7591, RFC 7592 (clientreg.py)
    registrations_per_minute: int = 30  # open registrations per address
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post",
                                     "none")
    assertion_aud_array: bool = False  # private_key_jwt (assertion.py)


def new_secret(request=None) -> str:
    """A 256-bit random code or token from ``secrets`` (RFC 6749 §10.10)."""
    return secrets.token_urlsafe(32)


def _fresh_code(grant, token_handler, request):
    # The opaque, issuer-marked maker: access tokens may be JWTs (RFC 9068).
    grant["code"] = token_handler.refresh_token_generator(request)
    return grant


def _no_scope(token):
    """Client credentials: Spotify's response has no ``scope`` (wire spec §3)."""
    token.pop("scope", None)
    return token


def _implicit_fields(token, token_handler, request):
    """Implicit: only Spotify's fields in the fragment (wire spec §3)."""
    token.pop("scope", None)
    return token


def _refresh_fields(token, token_handler, request):
    """No ``refresh_token`` unless rotated: the client keeps its own (wire spec §3)."""
    if not token_handler.request_validator.rotate_refresh_token(request):
        token.pop("refresh_token", None)
    return token


class SandboxServer(
    endpoints.AuthorizationEndpoint,
    endpoints.TokenEndpoint,
    endpoints.RevocationEndpoint,
    endpoints.IntrospectEndpoint,
):
    """Authorization, token, revocation and introspection endpoints (RFC 6749 §3)."""

    def __init__(self, validator, token_ttl: int) -> None:
        # The challenge methods the validator accepts: S256 only, but a lab's
        # weak issuer may add plain (RFC 9700 §2.1.1), asked at each request (a
        # learner's weak server weakens per request, for its own clients).
        def pre_auth(request) -> dict:
            return pkce.check_authorization_request(
                request, methods=validator.challenge_methods)

        code = grant_types.AuthorizationCodeGrant(
            validator, pre_auth=[pre_auth],
            pre_token=[pkce.check_code_request],
        )
        code.register_code_modifier(_fresh_code)
        code.register_token_modifier(oidc.add_id_token)  # OIDC Core §3.1.3.3
        code.register_code_modifier(dpopbind.bind_code)  # RFC 9449 §10
        implicit = grant_types.ImplicitGrant(validator, pre_auth=[pre_auth])
        implicit.register_token_modifier(_implicit_fields)
        credentials = grant_types.ClientCredentialsGrant(
            validator, pre_token=[pkce.check_client_credentials_request]
        )
        credentials.register_token_modifier(_no_scope)
        refresh = grant_types.RefreshTokenGrant(
            validator, pre_token=[pkce.check_refresh_request]
        )
        refresh.register_token_modifier(_refresh_fields)
        make = profiles.secret_maker(validator.settings.token_prefix)
        access = targeting.access_tokens(validator, make)
        bearer = BearerToken(validator, access, token_ttl, make)
        endpoints.AuthorizationEndpoint.__init__(
            self, "code", bearer, {"code": code, "token": implicit}
        )
        grants = dict(zip(TOKEN_GRANTS, (code, refresh, credentials), strict=True))
        if validator.settings.device_grant:  # not in Spotify
            grants[DEVICE_GRANT] = device.grant(validator)
        targeting.install(validator, access, grants, (code, implicit))
        endpoints.TokenEndpoint.__init__(self, "authorization_code", bearer, grants)
        endpoints.RevocationEndpoint.__init__(self, validator)
        endpoints.IntrospectEndpoint.__init__(self, validator)

    def validate_revocation_request(self, request) -> None:
        """Each parameter once, then oauthlib's checks (RFC 7009 §2.1)."""
        pkce.check_token_call(request)
        endpoints.RevocationEndpoint.validate_revocation_request(self, request)

    def validate_introspect_request(self, request) -> None:
        """Each parameter once, then oauthlib's checks (RFC 7662 §2.1)."""
        pkce.check_token_call(request)
        endpoints.IntrospectEndpoint.validate_introspect_request(self, request)


def call(endpoint, url: str, form: str, headers: dict) -> tuple[dict, str, int]:
    """Run an oauthlib endpoint on a POST; errors it raises become its usual
    triple of headers, body and status (RFC 6749 §5.2)."""
    try:
        return endpoint(url, "POST", form, headers)
    except errors.OAuth2Error as exc:
        return dict(exc.headers), exc.json, exc.status_code


def metadata(server: SandboxServer, issuer: str, scopes: list[str]) -> dict:
    """RFC 8414 §2 metadata, checked by oauthlib's MetadataEndpoint."""
    claims = {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/api/token",
        "revocation_endpoint": issuer + "/api/revoke",
        "introspection_endpoint": issuer + "/api/introspect",
        "scopes_supported": scopes,
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "implicit", *TOKEN_GRANTS[1:],
                                  DEVICE_GRANT],
        # RFC 8628 §4; not in Spotify.
        "device_authorization_endpoint": issuer + "/api/device",
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": issuer + "/",
        # Not in any RFC, and not in Spotify: the sandbox's teaching control that
        # expires one access token now. RFC 8414 §2 lets metadata carry extras.
        "flowlab_demo_expire_endpoint": issuer + "/demo/expire-token",
    }
    settings = server.request_validator.settings
    claims.update(par.metadata(settings, issuer) | dpop.metadata(settings))
    claims.update(oidc.metadata(settings, issuer))
    claims.update(targeting.metadata(settings, issuer, claims))
    if not settings.device_grant:
        del claims["device_authorization_endpoint"]
        claims["grant_types_supported"].remove(DEVICE_GRANT)
    if not settings.implicit_grant:  # no client here may register for it
        claims["response_types_supported"].remove("token")
        claims["response_modes_supported"].remove("fragment")
        claims["grant_types_supported"].remove("implicit")
    claims.update(clientreg.metadata(settings, issuer))
    claims.update(client_documents.metadata(settings, issuer))
    return endpoints.MetadataEndpoint([server], claims).claims


def spotify_token_error(body: str, status: int, grant_type: str | None,
                        invalid_client_status: int = 400):
    """Reword oauthlib's own token errors as Spotify does (wire spec §4B)."""
    data = json.loads(body)
    if data.get("error") == "unsupported_grant_type":
        data["error_description"] = (
            "grant_type must be authorization_code, refresh_token or"
            " client_credentials" if grant_type else "grant_type parameter is missing"
        )
    data.pop("state", None)
    # Spotify answers invalid_client with 400; RFC 6749 §5.2 says 401 for Basic.
    if data.get("error") == "invalid_client" and status == 401:
        status = invalid_client_status
    return json.dumps(data), status
