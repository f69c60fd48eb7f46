"""The token endpoint's checks: codes, PKCE verifiers, saved tokens, refresh tokens.

Plain functions the :class:`~flowlab.sandbox.validator.RequestValidator` calls.
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

from flowlab.sandbox import dpopbind
from flowlab.sandbox import grants
from flowlab.sandbox import jwtat
from flowlab.sandbox.issuers import issued_here
from flowlab.sandbox.pkce import verifier_matches

OIDC_ALWAYS = {"openid", "profile"}  # issue 21: valid for any client at best practice


def allowed_scopes(client, settings) -> frozenset[str]:
    """The scopes a client may ask for: the sandbox's, narrowed to the ``scope`` it
    registered if it registered one (RFC 7591 §2, RFC 6749 §3.3); where OpenID
    Connect is on, ``openid`` and ``profile`` whatever it registered."""
    registered = getattr(client, "scope", None)
    if registered is None:
        return settings.scopes
    return settings.scopes & (
        {*registered.split()} | (OIDC_ALWAYS if settings.oidc else set()))


def grant_error(request, text: str) -> errors.InvalidGrantError:
    return errors.InvalidGrantError(description=text, request=request)


def live_code(conn, settings, code: str, client, request, verify):
    """The code's record if known here, the same client's, with the right verifier
    (``verify``: the validator's :func:`check_verifier`), unexpired and for the
    same redirect URI; used or not (RFC 6749 §4.1.3)."""
    record = grants.find_code(conn, code)
    if (record is None or record.client_id != client.client_id
            or not issued_here(settings, code)):
        raise grant_error(request, "Invalid authorization code")
    verify(record, request)
    if record.expires_at <= time.time():
        raise grant_error(request, "Authorization code expired")
    if request.redirect_uri != record.redirect_uri:
        raise grant_error(request, "Invalid redirect URI")
    dpopbind.check_code(record.jkt, request)  # RFC 9449 §10, before the claim
    return record


def check_verifier(record, request, missing: str = "invalid_request") -> None:
    """A verifier iff a challenge was stored: no downgrade (RFC 9700 §4.8.2). A
    missing one is ``missing`` (the issuer's choice: RFC 7636 §4.6 names no code
    for it; OAuth 2.1 §4.1.3 makes it ``invalid_grant``)."""
    verifier = request.code_verifier
    if record.challenge is None:
        if verifier is not None:
            raise grant_error(
                request, "code_verifier sent but the code was issued without"
                " a code_challenge",
            )
        return
    if verifier is None:
        if missing == "invalid_grant":
            raise grant_error(request, "code_verifier required")
        raise errors.InvalidRequestError(
            description="code_verifier required", request=request
        )
    if not verifier_matches(verifier, record.challenge):
        raise grant_error(request, "code_verifier was incorrect")


class PkceRules:
    """The validator's PKCE rules as methods a lab's weak issuer may override
    (``RequestValidator`` inherits them; RFC 7636, RFC 9700 §2.1.1)."""

    # The code_challenge_method values authorize accepts (RFC 7636 §4.2): S256.
    challenge_methods: tuple[str, ...] = ("S256",)

    def check_verifier(self, record, request) -> None:
        """A verifier iff a challenge was stored, and one that matches it: no
        downgrade (RFC 7636 §4.6, RFC 9700 §4.8.2). Grant: authorization code."""
        check_verifier(record, request, self.settings.missing_verifier_error)


def save_code(conn, settings, code: dict, client_id: str, request) -> None:
    """Keep the code's digest, bound to client, user, redirect URI, PKCE and the
    resources asked for (RFC 6749 §4.1.2, RFC 7636 §4.4, RFC 8707 §2.1); for OpenID
    Connect, the request's ``nonce`` and the sign-in's ``auth_time`` (OIDC Core
    §3.1.2.1, §2; ``auth_time`` comes in the credentials of the authorize view)."""
    grants.save_code(
        conn, code["code"], settings.code_ttl,
        client_id=client_id, user_id=request.user,
        redirect_uri=request.redirect_uri, scopes=request.scopes,
        challenge=request.code_challenge, method=request.code_challenge_method,
        nonce=request.nonce, auth_time=getattr(request, "auth_time", None),
        resources=" ".join(getattr(request, "resources", ())) or None)


def bind(request, record) -> None:
    """The request now speaks for the code's or refresh token's grant."""
    request.user = record.user_id
    request.scopes = record.scopes
    request.grant_id = record.grant_id


def save_tokens(conn, settings, token: dict, request) -> None:
    """Keep token digests in their grant; the refresh token keeps its scope.
    A grant revoked by a racing replay since the checks issues nothing
    (RFC 6749 §10.5, RFC 9700 §4.14.2)."""
    scopes = request.scopes or []
    refresh_record = getattr(request, "refresh_record", None)
    saved = grants.save_tokens(
        conn, getattr(request, "grant_id", None), request.client_id,
        request.user, scopes, token["access_token"], settings.token_ttl,
        token.get("refresh_token"),
        refresh_scopes=refresh_record.scopes if refresh_record else scopes,
    )
    if not saved:
        raise grant_error(request, "Refresh token revoked" if refresh_record
                          else "Invalid authorization code")
    dpopbind.bind_tokens(conn, settings, token, request)  # RFC 9449 §5, §6


def live_refresh(conn, settings, refresh_token: str, client, request, rotate: bool):
    """Live, this client's, consent under six months old; with ``rotate``, a
    rotated one replayed revokes the whole grant (RFC 6749 §6, RFC 9700 §4.14.2)."""
    record = grants.find_token(conn, refresh_token)
    if (record is None or record.kind != "refresh"
            or not issued_here(settings, refresh_token)):
        raise grant_error(request, "Invalid refresh token")
    if record.client_id != client.client_id:
        raise grant_error(request, "Invalid refresh token")
    dpopbind.check_refresh(conn, refresh_token, request)  # RFC 9449 §5
    if record.revoked == "rotated":
        grants.revoke_grant(conn, record.grant_id)
    if record.revoked:
        raise grant_error(request, "Refresh token revoked")
    if record.expires_at <= time.time():
        raise grant_error(request, "Refresh token expired")
    asked = scope_to_list(request.scope) or []
    if not set(asked) <= set(record.scopes):
        raise errors.InvalidScopeError(description="Illegal scope", request=request)
    if rotate and not grants.rotate_refresh(conn, refresh_token):
        grants.revoke_grant(conn, record.grant_id)
        raise grant_error(request, "Refresh token revoked")
    return record


def own_token(conn, settings, token: str, request):
    """The caller's own token issued here, or None (RFC 7009 §2.1, RFC 7662 §2.1)."""
    record = grants.find_token(conn, token)
    if (record is None or record.client_id != request.client.client_id
            or not issued_here(settings, token)):
        return None
    return record


def introspection(conn, settings, token: str, request) -> dict | None:
    """The caller's own live token's claims, with ``cnf`` if it is DPoP-bound
    (RFC 7662 §2.2, RFC 9449 §6.2)."""
    found = claims(own_token(conn, settings, token, request), token)
    confirmation = found and dpopbind.confirmation(conn, token)
    if confirmation:
        found.update(cnf=confirmation, token_type="DPoP")
    return found


def claims(record, token: str = "") -> dict | None:
    """Introspection claims of a live token, else None (RFC 7662 §2.2); a JWT's
    own claims too (``jwtat.introspected``)."""

    if record is None or record.revoked or record.expires_at <= time.time():
        return None
    found = {
        "scope": " ".join(record.scopes),
        "client_id": record.client_id,
        "token_type": "Bearer" if record.kind == "access" else "refresh_token",
        "exp": int(record.expires_at),
        "iat": int(record.issued_at),
    }
    if record.user_id:
        found.update(sub=record.user_id, username=record.user_id)
    return jwtat.introspected(found, token)
