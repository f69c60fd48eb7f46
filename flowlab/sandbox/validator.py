"""The sandbox's oauthlib RequestValidator: one class, in oauthlib's skeleton order.

The checks live in ``clientauth``, ``redirects``, ``tokenrules`` and ``device``;
where Spotify words an error its own way, the method raises it with Spotify's text.
"""

from __future__ import annotations

from collections.abc import Callable

from oauthlib.oauth2 import RequestValidator as OAuthlibValidator
from oauthlib.oauth2.rfc6749 import errors

from flowlab.sandbox import client_documents
from flowlab.sandbox import clientauth
from flowlab.sandbox import device
from flowlab.sandbox import dpopclients
from flowlab.sandbox import grants
from flowlab.sandbox import tokenrules
from flowlab.sandbox.issuerpolicy import IssuerPolicy
from flowlab.sandbox.redirects import redirect_matches
from flowlab.sandbox.redirects import refusal
from flowlab.sandbox.store import get_client


class RequestValidator(IssuerPolicy, tokenrules.PkceRules, OAuthlibValidator):
    """Made once per issuer; each use asks for the request's connection, caller."""

    def __init__(self, settings, conn: Callable, remote: Callable) -> None:
        self.settings = settings
        self._conn, self._remote = conn, remote

    @property
    def conn(self):
        return self._conn()

    @property
    def remote(self) -> str:
        return self._remote()

    # -- Client authentication ---------------------------------------------------

    def client_authentication_required(self, request, *args, **kwargs):
        """Secret sent, or a confidential or unknown client (RFC 6749 §3.2.1).
        Grants: authorization code, refresh token; revocation, introspection."""
        if clientauth.presents_credentials(request):
            return True
        client = client_documents.client(self.conn, self.settings, request,
                                         self.remote, errors.InvalidClientError)
        return client is None or client.confidential

    def authenticate_client(self, request, *args, **kwargs):
        """Basic or body credentials, compared in constant time (RFC 6749 §2.3.1).
        Grants: authorization code, client credentials, refresh token, device code."""
        request.client = clientauth.authenticate(
            self.conn, request, self.remote, self.settings)
        request.client_id = request.client.client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client is known by its id alone (RFC 6749 §3.2.1).
        Grants: authorization code, refresh token, device code."""
        request.client = clientauth.identify_public(
            self.conn, request, self.remote, self.settings)
        return True

    # -- Authorization request ---------------------------------------------------

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """The client must be registered, else an error page (RFC 6749 §4.1.2.1).
        Grants: authorization code, implicit; device authorization (RFC 8628 §3.1)."""
        request.client = client_documents.client(
            self.conn, self.settings, request, self.remote, errors.InvalidClientIdError)
        if request.client is None:
            raise errors.InvalidClientIdError(
                description="INVALID_CLIENT: Invalid client", request=request)
        return True

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """Exact match with a registered URI, loopback port aside if the profile
        keeps that exception (RFC 8252 §7.3, RFC 9700 §2.1).
        Grants: authorization code, implicit."""
        if redirect_matches(request.client.redirect_uris, redirect_uri,
                            self.settings.loopback_any_port):
            return True
        raise errors.MismatchingRedirectURIError(
            description=refusal(redirect_uri), request=request)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        """None: as at Spotify, ``redirect_uri`` is required (RFC 6749 §3.1.2.3).
        Grants: authorization code, implicit."""
        return None

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Spotify's published scopes, or those registered (RFC 6749 §3.3, RFC 7591).
        Grants: authorization code, implicit, client credentials, device code."""
        request.scopes = [scope for scope in scopes if scope]
        if set(request.scopes) <= tokenrules.allowed_scopes(client, self.settings):
            return True
        raise errors.InvalidScopeError(description="Illegal scope", request=request)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """No scope asked means public data only (Spotify; RFC 6749 §3.3).
        Grants: authorization code, implicit, client credentials, device code."""
        return []

    def validate_response_type(
        self, client_id, response_type, client, request, *args, **kwargs
    ):
        """Implicit only for clients registered for it (RFC 9700 §2.1.2); a code
        only for clients registered for that grant (RFC 6749 §4.1.2.1).
        Grants: authorization code, implicit."""
        if response_type in client.response_types:
            return True
        if response_type == "code":
            raise errors.UnauthorizedClientError(
                description="This app may not use authorization_code", request=request)
        raise errors.UnsupportedResponseTypeError(
            description="response_type must be code", request=request)

    def is_pkce_required(self, client_id, request):
        """PKCE for every public client (RFC 7636 §4.4.1, RFC 9700 §2.1.1), or for
        every client if the profile says so (OAuth 2.1 §4.1.1).
        Grant: authorization code (authorization and token requests)."""
        client = request.client or get_client(self.conn, client_id)
        return client is not None and (
            self.settings.pkce_for_all or not client.confidential)

    # -- Authorization response --------------------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Keep the code's digest, bound to client, user, redirect URI and PKCE
        (RFC 6749 §4.1.2, RFC 7636 §4.4). Grant: authorization code."""
        tokenrules.save_code(self.conn, self.settings, code, client_id, request)

    # -- Token request -----------------------------------------------------------

    def validate_grant_type(
        self, client_id, grant_type, client, request, *args, **kwargs
    ):
        """The client must be registered for the grant (RFC 6749 §5.2).
        Grants: authorization code, client credentials, refresh token, device code."""
        dpopclients.require_proof(client, request)  # RFC 9449 §5.2, nothing used
        if grant_type in client.grant_types:
            return True
        raise errors.UnauthorizedClientError(
            description=f"This app may not use {grant_type}", request=request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """Known here, same client, PKCE, not expired, same redirect URI, unused
        (RFC 6749 §4.1.3, RFC 7636 §4.6). Grant: authorization code."""
        record = tokenrules.live_code(self.conn, self.settings, code, client, request,
                                      self.check_verifier)
        if record.used or not grants.claim_code(self.conn, code):
            self.refuse_used_code(record, request)
        request.code_record = record
        tokenrules.bind(request, record)
        return True

    def refuse_used_code(self, record, request) -> None:
        """A code used before: its grant's tokens are revoked and the request
        refused (RFC 6749 §4.1.2, §10.5). Grant: authorization code."""
        grants.revoke_grant(self.conn, record.grant_id)
        raise tokenrules.grant_error(request, "Invalid authorization code")

    def confirm_redirect_uri(
        self, client_id, code, redirect_uri, client, request, *args, **kwargs
    ):
        """Same redirect URI as at authorize (RFC 6749 §4.1.3).
        Grant: authorization code."""
        return redirect_uri == request.code_record.redirect_uri

    def get_code_challenge(self, code, request):
        """The stored challenge, already checked in validate_code (RFC 7636 §4.6).
        Grant: authorization code."""
        return request.code_record.challenge

    def get_code_challenge_method(self, code, request):
        """Always S256: nothing else is accepted at authorize (RFC 7636 §4.3).
        Grant: authorization code."""
        return request.code_record.challenge_method

    def save_token(self, token, request, *args, **kwargs):
        """No refresh token for an app not registered for the refresh grant (RFC
        6749 §1.5): oauthlib sends ``token`` as it stands after this call.
        Grants: all that issue tokens."""
        if "refresh_token" not in request.client.grant_types:
            token.pop("refresh_token", None)
        return self.save_bearer_token(token, request, *args, **kwargs)

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Keep token digests in their grant (RFC 6749 §5.1, RFC 6750).
        Grants: all that issue tokens."""
        tokenrules.save_tokens(self.conn, self.settings, token, request)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Nothing left to do: validate_code claimed the code atomically
        (RFC 6749 §4.1.2). Grant: authorization code."""

    # -- Refresh -----------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """Live, this client's, consent under six months old; with rotation on, a
        rotated one replayed revokes the whole grant (RFC 6749 §6, RFC 9700
        §4.14.2). Grant: refresh token."""
        record = tokenrules.live_refresh(
            self.conn, self.settings, refresh_token, client, request,
            self.rotate_refresh_token(request))
        request.refresh_record = record
        request.user, request.grant_id = record.user_id, record.grant_id
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """The scopes of the grant the refresh token belongs to (RFC 6749 §6).
        Grant: refresh token."""
        return request.refresh_record.scopes

    def is_within_original_scope(self, request_scopes, refresh_token, request):
        """Never wider than the original grant (RFC 6749 §6). Grant: refresh token."""
        return False

    def rotate_refresh_token(self, request):
        """Never at Spotify (2026); if the setting is on, public clients'
        (RFC 9700 §2.2.2, §4.14.2). Grant: refresh token."""
        return self.settings.rotate_refresh_tokens and not request.client.confidential

    # -- Token revocation and introspection --------------------------------------

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """Revoke the caller's own token; refresh takes its grant (RFC 7009 §2.1).
        Revocation endpoint."""
        record = tokenrules.own_token(self.conn, self.settings, token, request)
        if record is None:
            return
        if record.kind == "refresh":
            grants.revoke_grant(self.conn, record.grant_id)
        else:
            grants.revoke_token(self.conn, token)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        """Claims of the caller's own live token, else None (RFC 7662 §2.2).
        Introspection endpoint."""
        return tokenrules.introspection(self.conn, self.settings, token, request)

    # -- Device authorization ----------------------------------------------------

    def validate_device_code(self, client_id, code, request, *args, **kwargs):
        """Where this client's code stands; tokens only once (RFC 8628 §3.5).
        Grant: device code."""
        return device.poll(self.conn, self.settings, code, request)
