"""Refresh at the sandbox (RFC 6749 §6; checklist items 30-31), as at Spotify since
2026 (wire spec §3): no new refresh token for any client, the stored one keeps
working, and it dies six months after consent, however often it was used."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import text

from flowlab.sandbox.grants import REFRESH_LIFETIME
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import digest
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import make_client
from tests.sandbox_helpers import pkce_pair


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def public_tokens(sandbox, scope: str = "user-read-email user-read-private") -> dict:
    verifier, challenge = pkce_pair()
    code = sandbox.code(sandbox.spa, scope=scope, code_challenge=challenge,
                        code_challenge_method="S256")
    response = sandbox.token({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": CALLBACK,
                              "client_id": sandbox.spa.client_id,
                              "code_verifier": verifier})
    return response.json()


def refresh_public(sandbox, token: str, **extra):
    return sandbox.token({"grant_type": "refresh_token", "refresh_token": token,
                          "client_id": sandbox.spa.client_id, **extra})


def age_consent(server, refresh_token: str, seconds: float) -> None:
    """Move the consent behind ``refresh_token`` back in time, as if it were older."""
    with DB.connection(server.app) as conn:
        changed = conn.execute(text(
            "UPDATE grants SET created_at = created_at - :s, expires_at = expires_at"
            " - :s WHERE id = (SELECT grant_id FROM tokens WHERE token_hash = :hash)"),
            {"s": seconds, "hash": digest(refresh_token)},
        ).rowcount
    assert changed == 1


def test_confidential_refresh_omits_refresh_token(sandbox):
    first = sandbox.user_tokens("user-read-email")
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    response = sandbox.token(data, sandbox.web_auth())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert body["scope"] == "user-read-email" and body["token_type"] == "Bearer"
    again = sandbox.token(data, sandbox.web_auth())
    assert again.status_code == 200, "the old refresh token keeps working"


def test_confidential_refresh_needs_authentication(sandbox):
    """Checklist 30."""
    first = sandbox.user_tokens()
    response = sandbox.token({"grant_type": "refresh_token",
                              "refresh_token": first["refresh_token"],
                              "client_id": sandbox.web.client_id})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_refresh_token_of_another_client(sandbox, live_server):
    """Checklist 30: another client's refresh token → invalid_grant."""
    first = sandbox.user_tokens()
    other, secret = make_client(live_server.app)
    from tests.sandbox_helpers import basic

    response = sandbox.token({"grant_type": "refresh_token",
                              "refresh_token": first["refresh_token"]},
                             basic(other.client_id, secret))
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "Invalid refresh token"}


def test_scope_may_narrow_but_never_widen(sandbox):
    """Checklist 30."""
    first = public_tokens(sandbox)
    wider = refresh_public(sandbox, first["refresh_token"],
                           scope="user-read-email playlist-read-private")
    assert wider.json() == {"error": "invalid_scope",
                            "error_description": "Illegal scope"}
    narrow = refresh_public(sandbox, first["refresh_token"], scope="user-read-email")
    assert narrow.status_code == 200
    assert narrow.json()["scope"] == "user-read-email"
    me = sandbox.api("/me", narrow.json()["access_token"]).json()
    assert "email" in me and "country" not in me
    full = refresh_public(sandbox, first["refresh_token"])
    assert full.json()["scope"] == "user-read-email user-read-private"


def test_public_refresh_returns_no_refresh_token_and_it_keeps_working(sandbox):
    """Spotify since 2026-07-20: PKCE refresh tokens are no longer rotated."""
    first = public_tokens(sandbox)
    second = refresh_public(sandbox, first["refresh_token"])
    assert second.status_code == 200
    assert second.headers["Cache-Control"] == "no-store"
    body = second.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    again = refresh_public(sandbox, first["refresh_token"])
    assert again.status_code == 200, "the same refresh token works a second time"
    assert "refresh_token" not in again.json()
    for token in (first, body, again.json()):
        assert sandbox.api("/me", token["access_token"]).status_code == 200


@pytest.mark.parametrize("kind", ["public", "confidential"])
def test_refresh_token_dies_six_months_after_consent(sandbox, live_server, kind):
    """Wire spec §3: refreshing never extends it; expired → 400 invalid_grant."""
    if kind == "public":
        token = public_tokens(sandbox)["refresh_token"]
        refresh = lambda: refresh_public(sandbox, token)  # noqa: E731
    else:
        token = sandbox.user_tokens()["refresh_token"]
        refresh = lambda: sandbox.token(  # noqa: E731
            {"grant_type": "refresh_token", "refresh_token": token},
            sandbox.web_auth())
    age_consent(live_server, token, REFRESH_LIFETIME - 120)
    for _ in range(2):  # a day before the end, it still works, again and again
        assert refresh().status_code == 200
    age_consent(live_server, token, 180)  # one minute past six months
    expired = refresh()
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant",
                              "error_description": "Refresh token expired"}


def test_refreshing_leaves_the_expiry_where_consent_put_it(sandbox):
    """Introspection (not in Spotify) shows the refresh token's exp unmoved."""
    before = time.time()
    token = sandbox.user_tokens()["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": token}

    def exp() -> int:
        response = requests.post(sandbox.url("/api/introspect"),
                                 data={"token": token}, headers=sandbox.web_auth())
        assert response.json()["active"] is True, response.text
        return response.json()["exp"]

    first = exp()
    assert before + REFRESH_LIFETIME - 5 <= first <= time.time() + REFRESH_LIFETIME
    for _ in range(2):
        assert sandbox.token(refresh, sandbox.web_auth()).status_code == 200
    assert exp() == first


def test_rotation_setting_rotates_and_replay_revokes_the_grant(serve):
    """Not Spotify: the setting a best-practice profile turns on (RFC 9700 §4.14.2)."""
    server = serve(SANDBOX_ROTATE_REFRESH_TOKENS=True)
    sandbox = Sandbox(server.url, server.app.config)
    first = public_tokens(sandbox)
    second = refresh_public(sandbox, first["refresh_token"])
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    replay = refresh_public(sandbox, first["refresh_token"])
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "Refresh token revoked"}
    assert sandbox.api("/me", body["access_token"]).status_code == 401
    newest = refresh_public(sandbox, body["refresh_token"])
    assert newest.json()["error_description"] == "Refresh token revoked"
    confidential = sandbox.user_tokens()["refresh_token"]
    kept = sandbox.token({"grant_type": "refresh_token",
                          "refresh_token": confidential}, sandbox.web_auth())
    assert "refresh_token" not in kept.json()


@pytest.mark.parametrize("token", ["garbage", "", "x" * 3000])
def test_unknown_refresh_token(sandbox, token):
    response = refresh_public(sandbox, token)
    assert response.status_code == 400
    expected = "Invalid refresh token" if token else "refresh_token must be supplied"
    assert response.json()["error_description"] == expected


def test_access_token_is_not_a_refresh_token(sandbox):
    first = public_tokens(sandbox)
    response = refresh_public(sandbox, first["access_token"])
    assert response.json()["error_description"] == "Invalid refresh token"
