"""The sandbox's Web API: Spotify's error object, scope gating and the demo clock
(wire spec §4C, §8; RFC 6750 §2.1, §3.1)."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox_helpers import Sandbox


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def api_error(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {"error": {"status": status, "message": message}}


def client_token(sandbox) -> str:
    response = sandbox.token({"grant_type": "client_credentials"}, sandbox.web_auth())
    return response.json()["access_token"]


def first_artist(live_server) -> dict:
    return next(iter(live_server.app.extensions["sandbox"].catalogue.artists.values()))


@pytest.mark.parametrize("headers, status, message", [
    ({}, 401, "No token provided"),
    ({"Authorization": "Bearer garbage"}, 401, "Invalid access token"),
    ({"Authorization": "Basic Zm9vOmJhcg=="}, 400,
     "Only valid bearer authentication supported"),
    ({"Authorization": "Bearer"}, 400, "Only valid bearer authentication supported"),
    ({"Authorization": "Token abc"}, 400, "Only valid bearer authentication supported"),
])
def test_token_errors(sandbox, headers, status, message):
    api_error(requests.get(sandbox.url("/v1/me"), headers=headers), status, message)


def test_token_only_in_the_header(sandbox):
    """RFC 6750 §2.1 only: a token in the query string is not looked at."""
    token = sandbox.user_tokens()["access_token"]
    response = requests.get(sandbox.url("/v1/me"), params={"access_token": token})
    api_error(response, 401, "No token provided")


def test_me_fields_are_gated_by_scope(sandbox):
    basic_fields = {"display_name", "external_urls", "followers", "href", "id",
                    "images", "type", "uri", "account_id"}
    bare = sandbox.api("/me", sandbox.user_tokens("")["access_token"]).json()
    assert set(bare) == basic_fields
    assert bare["type"] == "user" and bare["followers"]["href"] is None
    email = sandbox.api("/me", sandbox.user_tokens("user-read-email")["access_token"])
    assert set(email.json()) == basic_fields | {"email"}
    private_token = sandbox.user_tokens("user-read-private")["access_token"]
    private = sandbox.api("/me", private_token)
    assert set(private.json()) == basic_fields | {"country", "product",
                                                  "explicit_content"}
    assert set(private.json()["explicit_content"]) == {"filter_enabled",
                                                       "filter_locked"}


def test_client_credentials_token_is_refused_on_me(sandbox):
    token = client_token(sandbox)
    api_error(sandbox.api("/me", token), 401, "Unauthorized.")
    api_error(sandbox.api("/me/playlists", token), 401, "Unauthorized.")


def test_playlists_need_playlist_read_private(sandbox):
    token = sandbox.user_tokens("user-read-email")["access_token"]
    api_error(sandbox.api("/me/playlists", token), 403, "Insufficient client scope")
    private = sandbox.user_tokens("playlist-read-private")["access_token"]
    page = sandbox.api("/me/playlists", private).json()
    assert set(page) == {"href", "items", "limit", "next", "offset", "previous",
                         "total"}
    assert page["items"] and not any(p["collaborative"] for p in page["items"])
    both = sandbox.user_tokens("playlist-read-private playlist-read-collaborative")
    items = sandbox.api("/me/playlists", both["access_token"]).json()["items"]
    assert any(p["collaborative"] for p in items)


def test_catalogue_with_any_valid_token(sandbox, live_server):
    artist = first_artist(live_server)
    for token in (client_token(sandbox), sandbox.user_tokens()["access_token"]):
        body = sandbox.api(f"/artists/{artist['id']}", token).json()
        assert body["id"] == artist["id"] and body["type"] == "artist"
        assert body["uri"] == f"spotify:artist:{artist['id']}"
    token = client_token(sandbox)
    api_error(sandbox.api("/artists/nope", token), 400, "invalid id")
    api_error(sandbox.api("/artists/" + "A" * 22, token), 404, "Resource not found")
    api_error(sandbox.api(f"/artists/{artist['id']}", "garbage"), 401,
              "Invalid access token")


def test_search(sandbox, live_server):
    token = client_token(sandbox)
    artist = first_artist(live_server)
    found = sandbox.api("/search", token,
                        params={"q": artist["name"][:6], "type": "artist"}).json()
    assert artist["id"] in [a["id"] for a in found["artists"]["items"]]
    assert found["artists"]["limit"] == 5
    api_error(sandbox.api("/search", token, params={"type": "artist"}), 400,
              "No search query")
    api_error(sandbox.api("/search", token, params={"q": "x"}), 400,
              "Missing parameter type")
    api_error(sandbox.api("/search", token, params={"q": "x", "type": "bogus"}), 400,
              "Bad search type field")
    api_error(sandbox.api("/search", token,
                          params={"q": "x", "type": "artist", "limit": "50"}),
              400, "Invalid limit")


def test_expire_token_demo_control(sandbox):
    """Not in Spotify: the token's clock jumps forward; refresh still works."""
    tokens = sandbox.user_tokens()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = requests.post(sandbox.url("/demo/expire-token"), headers=bearer)
    assert response.status_code == 200 and response.json() == {"expired": True}
    expired = sandbox.api("/me", tokens["access_token"])
    api_error(expired, 401, "The access token expired")
    refreshed = sandbox.token({"grant_type": "refresh_token",
                               "refresh_token": tokens["refresh_token"]},
                              sandbox.web_auth())
    assert sandbox.api("/me", refreshed.json()["access_token"]).status_code == 200
    unknown = requests.post(sandbox.url("/demo/expire-token"),
                            headers={"Authorization": "Bearer nope"})
    api_error(unknown, 401, "Invalid access token")


def test_access_token_lifetime_is_configurable(serve):
    import time

    server = serve(SANDBOX_TOKEN_TTL=1)
    sandbox = Sandbox(server.url, server.app.config)
    tokens = sandbox.user_tokens()
    assert tokens["expires_in"] == 1
    time.sleep(1.2)
    expired = sandbox.api("/me", tokens["access_token"])
    api_error(expired, 401, "The access token expired")


def test_cors_for_browser_apps(sandbox):
    token = sandbox.user_tokens()["access_token"]
    assert sandbox.api("/me", token).headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(sandbox.url("/v1/me"), headers={
        "Origin": "http://127.0.0.1:9000", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization"


def expired_token(sandbox) -> str:
    token = sandbox.user_tokens()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.post(sandbox.url("/demo/expire-token"), headers=bearer).ok
    return token


@pytest.mark.parametrize("token, message", [
    (expired_token, "The access token expired"),
    (lambda sandbox: "garbage", "Invalid access token"),
    (client_token, "Unauthorized."),
])
def test_401_names_the_token_error_in_www_authenticate(sandbox, token, message):
    """RFC 6750 §3: a 401 for a bad token says invalid_token, as Spotify's does."""
    response = sandbox.api("/me", token(sandbox))
    api_error(response, 401, message)
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="spotify", error="invalid_token", '
        f'error_description="{message}"')


def test_401_without_a_token_carries_no_error_code(sandbox):
    """RFC 6750 §3.1: a request with no credentials gets no error code."""
    response = requests.get(sandbox.url("/v1/me"))
    api_error(response, 401, "No token provided")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="spotify"'
