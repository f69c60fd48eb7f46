"""The oauthlib RequestValidator of the sandbox, its methods in flow order.

oauthlib drives the protocol; these methods answer its questions from SQLite. Where
Spotify words an error its own way, the method raises the error with Spotify's text.
"""

from __future__ import annotations

import time

from oauthlib.oauth2 import RequestValidator
from oauthlib.oauth2.rfc6749 import errors

from . import clientauth
from . import grants
from .profiles import issued_here
from .redirects import redirect_matches
from .redirects import refusal
from .store import get_client
from .tokenrules import TokenRules


class SandboxValidator(TokenRules, RequestValidator):
    """One request's validator: a connection, the settings and the caller."""

    def __init__(self, conn, settings, remote: str = "") -> None:
        self.conn = conn
        self.settings = settings
        self.remote = remote

    # -- Authorization request (RFC 6749 §4.1.1, §4.2.1) -------------------------

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """The client must be registered, else an error page (RFC 6749 §4.1.2.1)."""
        request.client = get_client(self.conn, client_id)
        if request.client is None:
            raise errors.InvalidClientIdError(
                description="INVALID_CLIENT: Invalid client", request=request
            )
        return True

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """Exact match with a registered URI, loopback port aside if the profile
        keeps that exception (RFC 8252 §7.3, RFC 9700 §2.1)."""
        if redirect_matches(request.client.redirect_uris, redirect_uri,
                            self.settings.loopback_any_port):
            return True
        raise errors.MismatchingRedirectURIError(
            description=refusal(redirect_uri), request=request
        )

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        """None: as at Spotify, ``redirect_uri`` is required (RFC 6749 §3.1.2.3)."""
        return None

    def validate_response_type(
        self, client_id, response_type, client, request, *args, **kwargs
    ):
        """Implicit only for clients registered for it (RFC 9700 §2.1.2); a code
        only for clients registered for that grant (RFC 6749 §4.1.2.1)."""
        if response_type in client.response_types:
            return True
        if response_type == "code":
            raise errors.UnauthorizedClientError(
                description="This app may not use authorization_code", request=request
            )
        raise errors.UnsupportedResponseTypeError(
            description="response_type must be code", request=request
        )

    def is_pkce_required(self, client_id, request):
        """PKCE for every public client (RFC 7636 §4.4.1, RFC 9700 §2.1.1), or for
        every client if the profile says so (OAuth 2.1 §4.1.1)."""
        client = request.client or get_client(self.conn, client_id)
        return client is not None and (
            self.settings.pkce_for_all or not client.confidential)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """No scope asked means public data only (Spotify; RFC 6749 §3.3)."""
        return []

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Only Spotify's published scopes (RFC 6749 §3.3, §4.1.2.1)."""
        request.scopes = [scope for scope in scopes if scope]
        if all(scope in self.settings.scopes for scope in request.scopes):
            return True
        raise errors.InvalidScopeError(description="Illegal scope", request=request)

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Keep the code's digest, bound to client, user, redirect URI and PKCE."""
        grants.save_code(
            self.conn, code["code"], self.settings.code_ttl,
            client_id=client_id, user_id=request.user,
            redirect_uri=request.redirect_uri, scopes=request.scopes,
            challenge=request.code_challenge, method=request.code_challenge_method,
        )

    # -- Client authentication (RFC 6749 §2.3, §3.2.1) ---------------------------

    def client_authentication_required(self, request, *args, **kwargs):
        """Secret sent, or a confidential or unknown client (RFC 6749 §3.2.1)."""
        if clientauth.basic_credentials(request) or request.client_secret is not None:
            return True
        client = get_client(self.conn, request.client_id)
        return client is None or client.confidential

    def authenticate_client(self, request, *args, **kwargs):
        """Basic or body credentials, compared in constant time (RFC 6749 §2.3.1)."""
        request.client = clientauth.authenticate(
            self.conn, request, self.remote, self.settings.failure_limit
        )
        request.client_id = request.client.client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client is known by its id alone (RFC 6749 §3.2.1)."""
        request.client = clientauth.identify_public(
            self.conn, request, self.remote, self.settings.failure_limit
        )
        return True

    def validate_grant_type(
        self, client_id, grant_type, client, request, *args, **kwargs
    ):
        """The client must be registered for the grant (RFC 6749 §5.2)."""
        if grant_type in client.grant_types:
            return True
        raise errors.UnauthorizedClientError(
            description=f"This app may not use {grant_type}", request=request
        )

    def save_token(self, token, request, *args, **kwargs):
        """No refresh token for an app not registered for the refresh grant (RFC
        6749 §1.5): oauthlib sends ``token`` as it stands after this call."""
        if "refresh_token" not in request.client.grant_types:
            token.pop("refresh_token", None)
        return self.save_bearer_token(token, request, *args, **kwargs)

    # -- Revocation and introspection (RFC 7009, RFC 7662) -----------------------

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """Revoke the caller's own token; refresh takes its grant (RFC 7009 §2.1)."""
        record = grants.find_token(self.conn, token)
        if (record is None or record.client_id != request.client.client_id
                or not issued_here(self.settings, token)):
            return
        if record.kind == "refresh":
            grants.revoke_grant(self.conn, record.grant_id)
        else:
            grants.revoke_token(self.conn, token)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        """Claims of the caller's own live token, else None (RFC 7662 §2.2)."""
        record = grants.find_token(self.conn, token)
        if (record is None or record.client_id != request.client.client_id
                or not issued_here(self.settings, token)):
            return None
        if record.revoked or record.expires_at <= time.time():
            return None
        claims = {
            "scope": " ".join(record.scopes),
            "client_id": record.client_id,
            "token_type": "Bearer" if record.kind == "access" else "refresh_token",
            "exp": int(record.expires_at),
            "iat": int(record.issued_at),
        }
        if record.user_id:
            claims.update(sub=record.user_id, username=record.user_id)
        return claims
