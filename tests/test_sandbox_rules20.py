"""Issue 20's sandbox rules, on the wire with plain ``requests``, at both issuers:
no scope upgrade at refresh (RFC 6749 §6), S256 only under best practice (RFC 9700
§2.1.1) refused by an error redirect (RFC 6749 §4.1.2.1), and a wrong client secret
answered as each issuer's profile says (RFC 6749 §5.2; Spotify: 400)."""

from __future__ import annotations

import pytest

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query

PATHS = {"spotify-like": "/sandbox", "best-practice": "/sandbox/best-practice"}


@pytest.fixture(params=list(PATHS))
def issuer(request, live_server) -> Sandbox:
    sandbox = Sandbox(live_server.url, live_server.app.config)
    sandbox.issuer = live_server.url + PATHS[request.param]
    return sandbox


def pkce_tokens(sandbox: Sandbox, client, scope: str) -> dict:
    """A code flow with S256 PKCE (both issuers accept it for any client)."""
    verifier, challenge = pkce_pair()
    code = sandbox.code(client, scope=scope, code_challenge=challenge,
                        code_challenge_method="S256")
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    if client is sandbox.web:
        response = sandbox.token(data, sandbox.web_auth())
    else:
        response = sandbox.token({**data, "client_id": client.client_id})
    assert response.status_code == 200, response.text
    return response.json()


def refresh(sandbox: Sandbox, client, token: str, scope: str | None):
    data = {"grant_type": "refresh_token", "refresh_token": token}
    if scope is not None:
        data["scope"] = scope
    if client is sandbox.web:
        return sandbox.token(data, sandbox.web_auth())
    return sandbox.token({**data, "client_id": client.client_id})


@pytest.mark.parametrize("kind", ["web", "spa"])
def test_refresh_cannot_widen_the_scope(issuer, kind):
    """RFC 6749 §6: "MUST NOT include any scope not originally granted" ->
    400 invalid_scope; the refused request spends nothing, and an equal or
    narrower scope still works."""
    client = getattr(issuer, kind)
    tokens = pkce_tokens(issuer, client, "user-read-email user-read-private")
    wider = refresh(issuer, client, tokens["refresh_token"],
                    "user-read-email user-read-private playlist-read-private")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"
    assert "access_token" not in wider.json()
    narrower = refresh(issuer, client, tokens["refresh_token"], "user-read-email")
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["scope"] == "user-read-email"
    me = issuer.api("/me", narrower.json()["access_token"])
    assert me.status_code == 200
    assert "email" in me.json()
    current = narrower.json().get("refresh_token", tokens["refresh_token"])
    equal = refresh(issuer, client, current, "user-read-email user-read-private")
    assert equal.status_code == 200, equal.text
    assert set(equal.json()["scope"].split()) == {"user-read-email",
                                                  "user-read-private"}


def authorize_with(sandbox: Sandbox, client, method: str | None, state: str):
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": CALLBACK, "state": state,
              "code_challenge": challenge}
    if method:
        params["code_challenge_method"] = method
    return sandbox.authorize(params)


@pytest.mark.parametrize("kind", ["web", "spa"])
def test_plain_is_refused_by_an_error_redirect(issuer, kind):
    """RFC 9700 §2.1.1 (S256 only) at best practice; Spotify documents S256 only
    and the sandbox refuses ``plain`` there too (wire spec §5). The refusal goes
    back to the registered redirect URI with ``state`` (RFC 6749 §4.1.2.1)."""
    client = getattr(issuer, kind)
    pkce_tokens(issuer, client, "user-read-email")  # approved: no interstitial
    answer = authorize_with(issuer, client, "plain", "st-plain")
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    found = query(location)
    assert found["error"] == "invalid_request"
    assert found["state"] == "st-plain"
    assert found["iss"] == issuer.issuer
    assert "code" not in found
    assert "S256" in found["error_description"]


def test_wrong_secret_with_basic(issuer):
    """RFC 6749 §5.2: 401 with ``WWW-Authenticate: Basic`` under best practice;
    Spotify answers 400 with the same body (wire spec §4.B). The sandbox says
    ``Invalid client`` for both unknown ids and wrong secrets (RFC 6819
    §5.1.4.2.2), where Spotify says ``Invalid client secret`` for the second."""
    code = issuer.code(issuer.web, code_challenge=pkce_pair()[1],
                       code_challenge_method="S256")
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK}
    answer = issuer.token(data, basic(issuer.web.client_id, "not-the-secret"))
    assert answer.json() == {"error": "invalid_client",
                             "error_description": "Invalid client"}
    assert answer.headers["Cache-Control"] == "no-store"
    if issuer.issuer.endswith("/best-practice"):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")
    else:
        assert answer.status_code == 400
    right_length = "x" * len(issuer.web.client_secret)
    same = issuer.token(data, basic(issuer.web.client_id, right_length))
    assert (same.status_code, same.json()) == (answer.status_code, answer.json())



def test_a_challenged_code_without_its_verifier_is_refused_per_issuer(issuer):
    """RFC 7636 §4.6: the code is not redeemed. Spotify answers invalid_request
    ("code_verifier required"); best practice invalid_grant (OAuth 2.1 §4.1.3)."""
    client = issuer.spa
    _, challenge = pkce_pair()
    code = issuer.code(client, scope="user-read-email", code_challenge=challenge,
                       code_challenge_method="S256")
    answer = issuer.token({"grant_type": "authorization_code", "code": code,
                           "redirect_uri": CALLBACK, "client_id": client.client_id})
    expected = ("invalid_grant" if issuer.issuer.endswith("/best-practice")
                else "invalid_request")
    assert answer.status_code == 400
    assert answer.json() == {"error": expected,
                             "error_description": "code_verifier required"}
