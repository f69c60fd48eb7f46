"""Extras the sandbox offers and Spotify does not: revocation (RFC 7009),
introspection (RFC 7662) and metadata (RFC 8414); checklist items 33-36."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import make_client


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def revoke(sandbox, token: str, auth: dict | None = None, **extra):
    return requests.post(sandbox.url("/api/revoke"), data={"token": token, **extra},
                         headers=auth if auth is not None else sandbox.web_auth())


def introspect(sandbox, token: str, auth: dict | None = None):
    return requests.post(sandbox.url("/api/introspect"), data={"token": token},
                         headers=auth if auth is not None else sandbox.web_auth())


def test_revoking_an_access_token(sandbox):
    """Checklist 33: 200, then inactive and 401 at the API; refresh still works."""
    tokens = sandbox.user_tokens()
    assert introspect(sandbox, tokens["access_token"]).json()["active"] is True
    response = revoke(sandbox, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200 and response.text == ""
    assert response.headers["Cache-Control"] == "no-store"
    assert introspect(sandbox, tokens["access_token"]).json() == {"active": False}
    assert sandbox.api("/me", tokens["access_token"]).status_code == 401


def test_revoking_a_refresh_token_kills_the_grant(sandbox):
    """Checklist 33: the refresh token takes its access tokens with it."""
    tokens = sandbox.user_tokens()
    assert revoke(sandbox, tokens["refresh_token"]).status_code == 200
    assert sandbox.api("/me", tokens["access_token"]).status_code == 401
    refresh = sandbox.token({"grant_type": "refresh_token",
                             "refresh_token": tokens["refresh_token"]},
                            sandbox.web_auth())
    assert refresh.json()["error_description"] == "Refresh token revoked"


@pytest.mark.parametrize("token, hint", [("garbage", None), ("x" * 4000, None),
                                         ("garbage", "refresh_token"),
                                         ("garbage", "made_up_hint")])
def test_revoking_unknown_tokens_is_ok(sandbox, token, hint):
    """Checklist 34: unknown token or hint → still 200."""
    extra = {"token_type_hint": hint} if hint else {}
    assert revoke(sandbox, token, **extra).status_code == 200


def test_wrong_hint_still_finds_the_token(sandbox):
    tokens = sandbox.user_tokens()
    assert revoke(sandbox, tokens["access_token"],
                  token_type_hint="refresh_token").status_code == 200
    assert sandbox.api("/me", tokens["access_token"]).status_code == 401


def test_another_clients_token_is_not_revoked(sandbox, live_server):
    """Checklist 34."""
    tokens = sandbox.user_tokens()
    other, secret = make_client(live_server.app)
    response = revoke(sandbox, tokens["access_token"], basic(other.client_id, secret))
    assert response.status_code == 200
    assert sandbox.api("/me", tokens["access_token"]).status_code == 200
    seen = introspect(sandbox, tokens["access_token"], basic(other.client_id, secret))
    assert seen.json() == {"active": False}


def test_revocation_and_introspection_need_client_authentication(sandbox):
    """Checklist 34, 35: 401 invalid_client (RFC 7009 §2.1, RFC 7662 §2.1)."""
    tokens = sandbox.user_tokens()
    for call in (revoke, introspect):
        for auth in ({}, basic(sandbox.web.client_id, "wrong")):
            response = call(sandbox, tokens["access_token"], auth)
            assert response.status_code == 401
            assert response.json()["error"] == "invalid_client"
    assert sandbox.api("/me", tokens["access_token"]).status_code == 200


def test_introspection_of_an_active_token(sandbox):
    """Checklist 35: active, scope, client_id, exp, iat, token_type."""
    tokens = sandbox.user_tokens("user-read-email")
    body = introspect(sandbox, tokens["access_token"]).json()
    assert body["active"] is True
    assert body["scope"] == "user-read-email"
    assert body["client_id"] == sandbox.web.client_id
    assert body["token_type"] == "Bearer"
    assert body["exp"] - body["iat"] == 3600
    assert abs(body["iat"] - time.time()) < 60
    assert body["sub"] == "alice"


@pytest.mark.parametrize("token", ["garbage", ""])
def test_introspection_of_unknown_tokens(sandbox, token):
    response = introspect(sandbox, token)
    if token:
        assert response.json() == {"active": False}
    else:
        assert response.status_code == 400


def test_introspection_of_expired_and_consumed_tokens(sandbox):
    tokens = sandbox.user_tokens()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    expire = requests.post(sandbox.url("/demo/expire-token"), headers=bearer)
    assert expire.json() == {"expired": True}
    assert introspect(sandbox, tokens["access_token"]).json() == {"active": False}


def test_public_client_may_revoke_its_own_token(sandbox):
    from tests.sandbox_helpers import CALLBACK
    from tests.sandbox_helpers import pkce_pair

    verifier, challenge = pkce_pair()
    code = sandbox.code(sandbox.spa, code_challenge=challenge,
                        code_challenge_method="S256")
    tokens = sandbox.token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CALLBACK, "code_verifier": verifier,
                            "client_id": sandbox.spa.client_id}).json()
    response = requests.post(sandbox.url("/api/revoke"),
                             data={"token": tokens["refresh_token"],
                                   "client_id": sandbox.spa.client_id})
    assert response.status_code == 200
    assert sandbox.api("/me", tokens["access_token"]).status_code == 401


def test_metadata(sandbox):
    """Checklist 36 (RFC 8414 §2, RFC 9207 §3)."""
    response = requests.get(sandbox.url("/.well-known/oauth-authorization-server"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    meta = response.json()
    assert meta["issuer"] == sandbox.issuer
    assert meta["authorization_endpoint"] == sandbox.issuer + "/authorize"
    assert meta["token_endpoint"] == sandbox.issuer + "/api/token"
    assert meta["revocation_endpoint"] == sandbox.issuer + "/api/revoke"
    assert meta["introspection_endpoint"] == sandbox.issuer + "/api/introspect"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert set(meta["response_types_supported"]) == {"code", "token"}
    assert "password" not in meta["grant_types_supported"]
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
    assert "user-read-email" in meta["scopes_supported"]
    rfc_place = requests.get(sandbox.base + "/.well-known/oauth-authorization-server"
                             "/sandbox")
    assert rfc_place.json() == meta


def test_issuer_follows_the_host_the_client_used(live_server):
    """The issuer is the host the client used: [::1] gives another issuer."""
    url = live_server("/sandbox/.well-known/oauth-authorization-server")
    meta = requests.get(url, headers={"Host": "127.0.0.1:1234"}).json()
    assert meta["issuer"] == "http://127.0.0.1:1234/sandbox"


@pytest.mark.parametrize("path", ["/api/revoke", "/api/introspect"])
def test_duplicate_token_is_invalid_request(sandbox, path):
    """RFC 6749 §3.2 (and RFC 7009 §2.1, RFC 7662 §2.1): one ``token`` only."""
    mine = sandbox.user_tokens()["access_token"]
    response = requests.post(sandbox.url(path),
                             data=[("token", "not-a-token"), ("token", mine)],
                             headers=sandbox.web_auth())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert sandbox.api("/me", mine).status_code == 200
