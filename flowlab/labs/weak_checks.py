"""The lab issuer's weakened checks, each behind one switch of a lab variant's
``server`` table (the list is in ``flowlab.labs.issuer``'s docstring): redirect
URIs matched by prefix, PKCE optional or ``plain``, scope not checked. Each
method overrides one check of the sandbox's validator, through its public API,
and does what the sandbox does unless its switch is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from flowlab.core.hosts import constant_time_equal
from flowlab.sandbox.public import RequestValidator

# A loopback IP literal's port, ignored as the sandbox does (RFC 8252 §7.3).
LOOPBACK_PORT = re.compile(r"^(http://(?:127\.0\.0\.1|\[::1\])):\d+")


class WeakChecks(RequestValidator):
    """The sandbox's checks, each weakened only where ``overrides`` says so."""

    overrides: Mapping = {}

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """With ``redirect_match = "prefix"``, any URI starting with a registered
        one (the attack of RFC 9700 §4.1.1); else the sandbox's exact rule, which
        RFC 9700 §4.1.3 requires."""
        if self.overrides.get("redirect_match") == "prefix" and any(
                _portless(redirect_uri or "").startswith(_portless(registered))
                for registered in request.client.redirect_uris):
            return True
        return super().validate_redirect_uri(client_id, redirect_uri, request)

    @property
    def challenge_methods(self) -> tuple[str, ...]:
        """With ``pkce_plain``, ``plain`` beside S256, though RFC 9700 §2.1.1 wants
        a method that does not expose the verifier: with ``plain`` the challenge
        is the verifier itself (RFC 7636 §4.2, §7.2)."""
        return ("S256", "plain") if self.overrides.get("pkce_plain") else ("S256",)

    def is_pkce_required(self, client_id, request):
        """With ``pkce_optional``, never: a request without a challenge gets a
        code, a public client's too (RFC 9700 §4.8, §2.1.1; RFC 7636 §4.4.1)."""
        if self.overrides.get("pkce_optional"):
            return False
        return super().is_pkce_required(client_id, request)

    def check_verifier(self, record, request) -> None:
        """With ``pkce_optional``, no verifier passes whatever was stored (the
        downgrade RFC 9700 §4.8 describes); with ``pkce_plain``, a ``plain``
        challenge is matched by the verifier equal to it (RFC 7636 §4.6)."""
        verifier = request.code_verifier
        if verifier is None and self.overrides.get("pkce_optional"):
            return
        if verifier is not None and record.challenge_method == "plain":
            if not constant_time_equal(verifier, record.challenge or ""):
                raise errors.InvalidGrantError(
                    description="code_verifier was incorrect", request=request)
            return
        super().check_verifier(record, request)

    def get_code_challenge(self, code, request):
        """With ``pkce_optional`` and no verifier sent, no challenge is reported,
        so oauthlib asks for none (RFC 9700 §4.8)."""
        if request.code_verifier is None and self.overrides.get("pkce_optional"):
            return None
        return super().get_code_challenge(code, request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """As the sandbox; with ``scope_check = false``, the token request's
        ``scope`` replaces the granted one (RFC 6749 §3.3 forbids it)."""
        super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not self.overrides.get("scope_check", True) and request.scope:
            request.scopes = self._offered(scope_to_list(request.scope), request)
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """As the sandbox, but with ``scope_check = false`` its own scope check
        does not see the asked ``scope`` (RFC 6749 §6 forbids widening)."""
        if self.overrides.get("scope_check", True):
            return super().validate_refresh_token(refresh_token, client, request)
        asked, request.scope = request.scope, None
        try:
            return super().validate_refresh_token(refresh_token, client, request)
        finally:
            request.scope = asked

    def is_within_original_scope(self, request_scopes, refresh_token, request):
        """With ``scope_check = false``, any scope the server has is "within"
        the grant (RFC 6749 §6 says: only those originally granted)."""
        if self.overrides.get("scope_check", True):
            return super().is_within_original_scope(request_scopes, refresh_token,
                                                    request)
        return bool(self._offered(request_scopes, request))

    def _offered(self, scopes: list[str], request) -> list[str]:
        """The scopes asked for, if the server has them all (RFC 6749 §3.3)."""
        if not set(scopes) <= self.settings.scopes:
            raise errors.InvalidScopeError(description="Illegal scope",
                                           request=request)
        return scopes


def _portless(uri: str) -> str:
    return LOOPBACK_PORT.sub(r"\1", uri)
