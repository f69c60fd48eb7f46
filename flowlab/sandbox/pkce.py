"""Request checks oauthlib leaves to us: PKCE rules, duplicates and Spotify's texts.

oauthlib accepts ``plain`` (and turns a missing method into ``plain``), never checks
the verifier's ABNF, and checks duplicates only for a few parameters. These custom
validators close those gaps (RFC 7636 §4.1-§4.4, RFC 9700 §2.1.1, RFC 6749 §3.1).
"""

from __future__ import annotations

import hmac
import re

from oauthlib.oauth2.rfc6749 import errors

from flowlab.core.http import s256

# RFC 7636 §4.1: 43-128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~".
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
RESPONSE_TYPES = ("code", "token")
AUTHORIZE_SINGLE = ("code_challenge", "code_challenge_method", "show_dialog")
TOKEN_SINGLE = ("code", "code_verifier", "refresh_token", "scope", "client_id",
                "client_secret")
# Revocation and introspection: RFC 7009 §2.1, RFC 7662 §2.1 over RFC 6749 §3.2.
TOKEN_CALL_SINGLE = ("token", "token_type_hint", "client_id", "client_secret")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether a well-formed verifier hashes to the stored challenge (RFC 7636 §4.6)."""
    if not PKCE_VALUE.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


def _no_duplicates(request, names: tuple[str, ...]) -> None:
    """Each parameter at most once (RFC 6749 §3.1, §3.2)."""
    repeated = request.duplicate_params  # worked out anew at each read
    for name in names:
        if name in repeated:
            raise errors.InvalidRequestError(
                description=f"Duplicate {name} parameter.", request=request
            )


def check_authorization_request(request, methods: tuple[str, ...] = ("S256",)) -> dict:
    """Pre-auth: response_type, duplicates, S256 only (``methods``: the issuer's
    validator may name others), ABNF (RFC 7636 §4.3)."""
    if request.response_type not in RESPONSE_TYPES:
        error = errors.InvalidRequestError
        if request.response_type:
            error = errors.UnsupportedResponseTypeError
        raise error(description="response_type must be code or token", request=request)
    _no_duplicates(request, AUTHORIZE_SINGLE)
    if request.response_type != "code":
        return {}
    challenge = request.code_challenge
    method = request.code_challenge_method
    if challenge is None and method is not None:
        raise errors.InvalidRequestError(
            description="code_challenge required with code_challenge_method",
            request=request,
        )
    if challenge is not None and method not in methods:
        raise errors.InvalidRequestError(
            description="code_challenge_method must be " + " or ".join(methods),
            request=request,
        )
    if challenge is not None and not PKCE_VALUE.fullmatch(challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43 to 128 characters of"
            " A-Z a-z 0-9 - . _ ~",
            request=request,
        )
    return {}


def check_code_request(request) -> None:
    """Pre-token: a code, each parameter once (RFC 6749 §4.1.3)."""
    _no_duplicates(request, TOKEN_SINGLE)
    if not request.code:
        raise errors.InvalidRequestError(
            description="code must be supplied", request=request
        )


def check_client_credentials_request(request) -> None:
    """Pre-token: each parameter once, ``client_id`` included (RFC 6749 §3.2)."""
    _no_duplicates(request, TOKEN_SINGLE)


def check_token_call(request) -> None:
    """Revocation and introspection: each parameter once (RFC 6749 §3.2)."""
    _no_duplicates(request, TOKEN_CALL_SINGLE)


def check_refresh_request(request) -> None:
    """Pre-token: a refresh token, each parameter once (RFC 6749 §6)."""
    _no_duplicates(request, TOKEN_SINGLE)
    if not request.refresh_token:
        raise errors.InvalidRequestError(
            description="refresh_token must be supplied", request=request
        )
