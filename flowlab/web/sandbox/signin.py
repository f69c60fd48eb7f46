"""The demo user's sign-in as OpenID Connect sees it: when it happened
(``auth_time``, OIDC Core §2) and what ``prompt`` and ``max_age`` make of it
(§3.1.2.1; the decision is ``flowlab.sandbox.prompts``). Kept in the session
beside the signed-in user."""

from __future__ import annotations

import time

from flask import session

from flowlab.sandbox import consents
from flowlab.sandbox import prompts
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import USER_KEY
from flowlab.web.sandbox.context import settings

AUTH_TIME_KEY = "sandbox_auth_time"  # when the user last picked "Continue as"
ASKED_KEY = "sandbox_login_asked"  # when the sign-in page was last shown


def sign_in(user_id: str) -> None:
    """The demo user signs in now."""
    session[USER_KEY] = user_id
    session[AUTH_TIME_KEY] = time.time()


def sign_out() -> None:
    session.pop(USER_KEY, None)
    session.pop(AUTH_TIME_KEY, None)


def auth_time() -> float | None:
    """When the signed-in user signed in (None before this was recorded)."""
    return session.get(AUTH_TIME_KEY)


def page_shown() -> None:
    """The sign-in page is shown for an authorization request."""
    session[ASKED_KEY] = time.time()


def outcome(info: dict, scopes: list[str], user: dict | None) -> str | None:
    """What ``prompt`` and ``max_age`` ask of an OpenID Connect request at an
    issuer that speaks it (``prompts.outcome``); None for any other request."""
    if not settings().oidc or "openid" not in scopes:
        return None
    known = user and consents.granted_scopes(DB.get(), user["id"], info["client_id"])
    state = prompts.SignIn(user is not None, auth_time(), session.get(ASKED_KEY))
    asked = info["request"]  # oauthlib's, so a pushed request's too (RFC 9126)
    found = prompts.outcome(asked.prompt, asked.max_age, state,
                            known is not None and set(scopes) <= known, time.time())
    if found != prompts.LOGIN:
        session.pop(ASKED_KEY, None)
    return found
