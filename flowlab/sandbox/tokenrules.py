"""The token-endpoint half of the validator: codes, PKCE, tokens, refresh.

Refresh works as at Spotify since 2026: the refresh token is not rotated, stays valid
on reuse, and dies six months after consent (wire spec §3). Rotation with reuse
detection (RFC 9700 §4.14.2) is a profile setting, on in the best-practice profile.
A code or token made by another issuer is unknown here (``profiles.issued_here``).

Order of the code checks matters: a replay only revokes tokens when the replayed
request is otherwise valid (right client, verifier and redirect URI), so a wrong
guess cannot revoke someone else's tokens (OAuth 2.1 §7.5.2). For the same reason a
failed PKCE check leaves the code unused (as oidc-provider does; navikt consumes it).
"""

from __future__ import annotations

import time

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from . import grants
from .pkce import verifier_matches
from .profiles import issued_here


def _grant_error(request, text: str) -> errors.InvalidGrantError:
    return errors.InvalidGrantError(description=text, request=request)


class TokenRules:
    """Token-endpoint methods of :class:`SandboxValidator`, in flow order."""

    # -- Authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6) --------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """Known here, same client, PKCE, not expired, same redirect URI, unused."""
        record = grants.find_code(self.conn, code)
        if (record is None or record.client_id != client.client_id
                or not issued_here(self.settings, code)):
            raise _grant_error(request, "Invalid authorization code")
        self._check_verifier(record, request)
        if record.expires_at <= time.time():
            raise _grant_error(request, "Authorization code expired")
        if request.redirect_uri != record.redirect_uri:
            raise _grant_error(request, "Invalid redirect URI")
        if record.used or not grants.claim_code(self.conn, code):
            grants.revoke_grant(self.conn, record.grant_id)
            raise _grant_error(request, "Invalid authorization code")
        request.code_record = record
        request.user = record.user_id
        request.scopes = record.scopes
        request.grant_id = record.grant_id
        return True

    def _check_verifier(self, record, request) -> None:
        """A verifier iff a challenge was stored: no downgrade (RFC 9700 §4.8.2)."""
        verifier = request.code_verifier
        if record.challenge is None:
            if verifier is not None:
                raise _grant_error(
                    request, "code_verifier sent but the code was issued without"
                    " a code_challenge",
                )
            return
        if verifier is None:
            raise errors.InvalidRequestError(
                description="code_verifier required", request=request
            )
        if not verifier_matches(verifier, record.challenge):
            raise _grant_error(request, "code_verifier was incorrect")

    def get_code_challenge(self, code, request):
        """The stored challenge, already checked in validate_code (RFC 7636 §4.6)."""
        return request.code_record.challenge

    def get_code_challenge_method(self, code, request):
        """Always S256: nothing else is accepted at authorize (RFC 7636 §4.3)."""
        return request.code_record.challenge_method

    def confirm_redirect_uri(
        self, client_id, code, redirect_uri, client, request, *args, **kwargs
    ):
        """Same redirect URI as at authorize (RFC 6749 §4.1.3)."""
        return redirect_uri == request.code_record.redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Nothing left to do: validate_code claimed the code atomically."""

    # -- Tokens (RFC 6749 §5.1) --------------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Keep token digests in their grant; the refresh token keeps its scope.
        A grant revoked by a racing replay since the checks issues nothing
        (RFC 6749 §10.5, RFC 9700 §4.14.2)."""
        scopes = request.scopes or []
        refresh_record = getattr(request, "refresh_record", None)
        saved = grants.save_tokens(
            self.conn, getattr(request, "grant_id", None), request.client_id,
            request.user, scopes, token["access_token"], self.settings.token_ttl,
            token.get("refresh_token"),
            refresh_scopes=refresh_record.scopes if refresh_record else scopes,
        )
        if not saved:
            raise _grant_error(request, "Refresh token revoked" if refresh_record
                               else "Invalid authorization code")

    # -- Refresh token grant (RFC 6749 §6, RFC 9700 §4.14.2) ---------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """Live, this client's, consent under six months old; with rotation on, a
        rotated one replayed revokes the whole grant (RFC 9700 §4.14.2)."""
        record = grants.find_token(self.conn, refresh_token)
        if (record is None or record.kind != "refresh"
                or not issued_here(self.settings, refresh_token)):
            raise _grant_error(request, "Invalid refresh token")
        if record.client_id != client.client_id:
            raise _grant_error(request, "Invalid refresh token")
        if record.revoked == "rotated":
            grants.revoke_grant(self.conn, record.grant_id)
        if record.revoked:
            raise _grant_error(request, "Refresh token revoked")
        if record.expires_at <= time.time():
            raise _grant_error(request, "Refresh token expired")
        asked = scope_to_list(request.scope) or []
        if not set(asked) <= set(record.scopes):
            raise errors.InvalidScopeError(description="Illegal scope", request=request)
        if self.rotate_refresh_token(request) and not grants.rotate_refresh(
            self.conn, refresh_token
        ):
            grants.revoke_grant(self.conn, record.grant_id)
            raise _grant_error(request, "Refresh token revoked")
        request.refresh_record = record
        request.user = record.user_id
        request.grant_id = record.grant_id
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """The scopes of the grant the refresh token belongs to (RFC 6749 §6)."""
        return request.refresh_record.scopes

    def is_within_original_scope(self, request_scopes, refresh_token, request):
        """Never wider than the original grant (RFC 6749 §6)."""
        return False

    def rotate_refresh_token(self, request):
        """Never at Spotify (2026); if the setting is on, public clients'
        (RFC 9700 §2.2.2, §4.14.2)."""
        return self.settings.rotate_refresh_tokens and not request.client.confidential
