"""``prompt`` and ``max_age`` of an OpenID Connect authorization request (OIDC Core
§3.1.2.1, errors §3.1.2.6): whether the user must sign in again, be asked for
consent again, or whether a silent request fails.

A request that asked for a fresh sign-in (``prompt=login``, or ``max_age`` passed)
is satisfied by a sign-in made after its sign-in page was shown (``asked``): the
user is not sent round the same page again when coming back to the same URL.
"""

from __future__ import annotations

from dataclasses import dataclass

LOGIN = "login"  # show the sign-in page ("Continue as <name>")
CONSENT = "consent"  # show the consent page ("Agree") even if agreed before


@dataclass(frozen=True)
class SignIn:
    """Where this browser stands: signed in or not, when, and when the sign-in
    page was last shown for a request that needed a fresh sign-in."""

    signed_in: bool
    auth_time: float | None
    asked: float | None


def outcome(prompt: str | None, max_age: str | None, sign_in: SignIn,
            consented: bool, now: float) -> str | None:
    """None (go on as usual), :data:`LOGIN`, :data:`CONSENT`, or an error code
    for the redirect URI: ``invalid_request``, ``login_required``,
    ``consent_required``."""
    values = set((prompt or "").split())
    if "none" in values and len(values) > 1:  # §3.1.2.1: none goes alone
        return "invalid_request"
    if values - {"none", "login", "consent", "select_account"}:
        return "invalid_request"
    if max_age is not None and not max_age.isdigit():
        return "invalid_request"
    stale = sign_in.auth_time is None or (
        max_age is not None and now - sign_in.auth_time > int(max_age))
    fresh = "login" in values or (sign_in.signed_in and stale and max_age is not None)
    redone = (sign_in.asked is not None and sign_in.auth_time is not None
              and sign_in.auth_time >= sign_in.asked)
    if "none" in values:
        if not sign_in.signed_in or (max_age is not None and stale):
            return "login_required"
        return None if consented else "consent_required"
    if sign_in.signed_in and fresh and not redone:
        return LOGIN
    return CONSENT if "consent" in values else None
