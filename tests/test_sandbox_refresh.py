"""Refresh at the sandbox (RFC 6749 §6; checklist items 30-31): confidential clients
keep their refresh token, public clients rotate it (wire spec §3)."""

from __future__ import annotations

import pytest

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
    rotated = refresh_public(sandbox, narrow.json()["refresh_token"])
    assert rotated.json()["scope"] == "user-read-email user-read-private"


def test_public_refresh_rotates_and_replay_revokes_the_grant(sandbox):
    """Checklist 31 and Spotify's "Refresh token revoked"."""
    first = public_tokens(sandbox)
    second = refresh_public(sandbox, first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in",
                         "refresh_token"}
    assert body["refresh_token"] != first["refresh_token"]
    replay = refresh_public(sandbox, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "Refresh token revoked"}
    assert sandbox.api("/me", body["access_token"]).status_code == 401
    newest = refresh_public(sandbox, body["refresh_token"])
    assert newest.json()["error_description"] == "Refresh token revoked"


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
