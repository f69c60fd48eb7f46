"""OpenID Connect at the best-practice issuer, over HTTP: discovery, an id_token an
independent client verifies (tests/oidc_client.py: requests + cryptography only),
nonce, at_hash, auth_time, a client registered for ES256, key rotation, UserInfo
by scope, prompt and max_age with their errors. The Spotify-like issuer has none of
it (OIDC Core 1.0, Discovery 1.0)."""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from flowlab.sandbox import keys
from flowlab.sandbox.store import DB
from tests import oidc_client
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import make_client
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query
from tests.test_sandbox_profiles import issuer_at


@pytest.fixture
def best(live_server):
    return issuer_at(live_server, "best-practice")


@pytest.fixture
def spotify(live_server):
    return issuer_at(live_server, "spotify-like")


def _params(client_id: str, scope: str = "openid", **extra) -> dict:
    verifier, challenge = pkce_pair()
    return {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
            "state": "st", "scope": scope, "code_challenge": challenge,
            "code_challenge_method": "S256", "_verifier": verifier, **extra}


def _sign_in(sandbox, client_id: str, scope: str = "openid", **extra) -> dict:
    """A code flow with PKCE for a public client; the token response."""
    params = _params(client_id, scope, **extra)
    verifier = params.pop("_verifier")
    location = sandbox.authorize(params).headers["Location"]
    code = query(location)["code"]
    response = sandbox.token({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": CALLBACK, "code_verifier": verifier,
                              "client_id": client_id})
    assert response.status_code == 200, response.text
    return response.json()


def _get(sandbox, params: dict) -> requests.Response:
    params = {k: v for k, v in params.items() if k != "_verifier"}
    return sandbox.browser.get(sandbox.url("/authorize"), params=params,
                               allow_redirects=False)


def test_discovery_names_every_required_field_and_agrees_with_rfc8414(best):
    """Discovery §3, §4: at {issuer}/.well-known/openid-configuration; the RFC
    8414 metadata carries the same endpoints."""
    config = oidc_client.discover(best.issuer)
    issuer = best.issuer
    assert config["issuer"] == issuer
    assert config["authorization_endpoint"] == issuer + "/authorize"
    assert config["token_endpoint"] == issuer + "/api/token"
    assert config["userinfo_endpoint"] == issuer + "/api/userinfo"
    assert config["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert {"openid", "profile", "email"} <= set(config["scopes_supported"])
    assert "code" in config["response_types_supported"]
    assert config["subject_types_supported"] == ["public"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name",
            "preferred_username", "email", "email_verified"} <= set(
        config["claims_supported"])
    rfc8414 = requests.get(issuer + "/.well-known/oauth-authorization-server",
                           timeout=5).json()
    for name in ("issuer", "jwks_uri", "userinfo_endpoint", "token_endpoint",
                 "scopes_supported", "id_token_signing_alg_values_supported"):
        assert rfc8414[name] == config[name]
    jwks = requests.get(config["jwks_uri"], timeout=5)
    assert jwks.headers["Content-Type"].startswith("application/json")
    for key in jwks.json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


@pytest.mark.parametrize("confidential", [False, True])
def test_an_independent_client_verifies_the_id_token(best, confidential):
    """OIDC Core §3.1.3.3, §3.1.3.7: RS256 by default, kid from jwks_uri, iss,
    aud, exp, iat, nonce echoed, at_hash of the access token, auth_time, no azp."""
    nonce = secrets.token_urlsafe(16)
    before = int(time.time())
    if confidential:
        verifier, challenge = pkce_pair()
        code = best.code(best.web, scope="openid profile", nonce=nonce,
                         code_challenge=challenge, code_challenge_method="S256")
        tokens = best.token({"grant_type": "authorization_code", "code": code,
                             "redirect_uri": CALLBACK, "code_verifier": verifier},
                            best.web_auth()).json()
        client_id = best.web.client_id
    else:
        tokens = _sign_in(best, best.spa.client_id, "openid profile", nonce=nonce)
        client_id = best.spa.client_id
    header, claims = oidc_client.validate_id_token(
        tokens["id_token"], best.issuer, client_id, nonce, tokens["access_token"])
    assert header["kid"]
    assert claims["sub"] == "alice"
    assert before - 5 <= claims["auth_time"] <= time.time()
    assert claims["exp"] > claims["iat"]


def test_without_a_nonce_the_id_token_has_none(best):
    tokens = _sign_in(best, best.spa.client_id)
    _, claims = oidc_client.validate_id_token(
        tokens["id_token"], best.issuer, best.spa.client_id, None,
        tokens["access_token"])
    assert "nonce" not in claims


def test_no_id_token_without_openid(best):
    """OIDC Core §3.1.2.1: without ``openid`` it is plain OAuth 2.0."""
    tokens = _sign_in(best, best.spa.client_id, "user-read-email")
    assert "id_token" not in tokens


def test_a_client_registered_for_es256_gets_es256(best, live_server):
    """OIDC Registration §2 ``id_token_signed_response_alg``; RS256 otherwise."""
    from flowlab.sandbox import oidc  # the registration helper's seam

    client, _ = make_client(live_server.app, confidential=False)
    with DB.connection(live_server.app) as conn:
        oidc.set_id_token_alg(conn, client.client_id, "ES256")
        with pytest.raises(ValueError):
            oidc.set_id_token_alg(conn, client.client_id, "none")
    # At best practice "openid profile" is valid for any client (issue 21).
    tokens = _sign_in(best, client.client_id, "openid profile email", nonce="n-es")
    header, claims = oidc_client.validate_id_token(
        tokens["id_token"], best.issuer, client.client_id, "n-es",
        tokens["access_token"], alg="ES256")
    assert claims["aud"] == client.client_id


def test_after_rotation_new_id_tokens_name_the_new_key_and_old_ones_verify(
        best, live_server):
    """OIDC Core §10.1.1: the key that signed until now stays in the JWK Set."""
    old = _sign_in(best, best.spa.client_id)
    old_kid = oidc_client.verify_signature(
        old["id_token"], requests.get(best.issuer + "/.well-known/jwks.json",
                                      timeout=5).json(), "RS256")["kid"]
    with DB.connection(live_server.app) as conn:
        new_kid = keys.rotate(conn, live_server.app.config["SECRET_KEY"], "RS256")
    jwks = requests.get(best.issuer + "/.well-known/jwks.json", timeout=5).json()
    assert {old_kid, new_kid} <= {key["kid"] for key in jwks["keys"]}
    oidc_client.verify_signature(old["id_token"], jwks, "RS256")
    fresh = _sign_in(best, best.spa.client_id)
    assert oidc_client.verify_signature(fresh["id_token"], jwks,
                                        "RS256")["kid"] == new_kid


def test_userinfo_answers_claims_by_scope(best):
    """OIDC Core §5.3, §5.4: sub always; profile and email claims by scope; GET
    and POST; sub equals the id_token's."""
    url = best.issuer + "/api/userinfo"
    bare = _sign_in(best, best.spa.client_id)["access_token"]
    answer = requests.get(url, headers={"Authorization": "Bearer " + bare}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"sub": "alice"}
    full = _sign_in(best, best.spa.client_id, "openid profile email")
    for method in ("GET", "POST"):
        answer = requests.request(method, url, timeout=5, headers={
            "Authorization": "Bearer " + full["access_token"]})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "sub": "alice", "name": "Alice Lindqvist", "preferred_username": "alice",
            "email": "alice@example.org", "email_verified": True}
    _, claims = oidc_client.validate_id_token(
        full["id_token"], best.issuer, best.spa.client_id, None,
        full["access_token"])
    assert claims["sub"] == answer.json()["sub"]


def test_userinfo_refusals_name_the_bearer_error(best, spotify):
    """RFC 6750 §3, §3.1: no token, a bad one, one without ``openid``."""
    url = best.issuer + "/api/userinfo"
    none = requests.get(url, timeout=5)
    assert none.status_code == 401
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in none.headers["WWW-Authenticate"]
    bad = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    plain = _sign_in(best, best.spa.client_id, "user-read-email")["access_token"]
    narrow = requests.get(url, headers={"Authorization": "Bearer " + plain},
                          timeout=5)
    assert narrow.status_code == 403
    assert 'error="insufficient_scope"' in narrow.headers["WWW-Authenticate"]
    other = spotify.user_tokens()["access_token"]  # another issuer's token
    foreign = requests.get(url, headers={"Authorization": "Bearer " + other},
                           timeout=5)
    assert foreign.status_code == 401


def test_prompt_none_without_a_signed_in_user_is_login_required(best):
    """OIDC Core §3.1.2.6: to the redirect URI, with state and iss."""
    answer = _get(best, _params(best.spa.client_id, prompt="none"))
    assert answer.status_code == 302
    assert query(answer.headers["Location"]) == {
        "error": "login_required", "state": "st", "iss": best.issuer}


def test_prompt_none_without_consent_is_consent_required(best, live_server):
    client, _ = make_client(live_server.app, confidential=False)
    _sign_in(best, best.spa.client_id)  # Alice is signed in
    answer = _get(best, _params(client.client_id, prompt="none"))
    assert query(answer.headers["Location"]) == {
        "error": "consent_required", "state": "st", "iss": best.issuer}
    silent = _get(best, _params(best.spa.client_id, prompt="none"))
    assert "code" in query(silent.headers["Location"])
    mixed = _get(best, _params(best.spa.client_id, prompt="none login"))
    assert query(mixed.headers["Location"])["error"] == "invalid_request"


def test_prompt_login_shows_the_sign_in_page_again(best):
    """OIDC Core §3.1.2.1: re-authenticate even when signed in; auth_time is the
    new sign-in's."""
    _sign_in(best, best.spa.client_id)
    params = _params(best.spa.client_id, prompt="login", nonce="n1")
    verifier = params.pop("_verifier")
    page = _get(best, params)
    assert page.status_code == 200 and "Continue as Alice Lindqvist" in page.text
    before = int(time.time())
    signed = best.submit(page, {"user": "alice"})
    assert signed.status_code == 303
    back = best.browser.get(best.base + signed.headers["Location"],
                            allow_redirects=False)
    assert back.status_code == 302, back.text
    code = query(back.headers["Location"])["code"]
    tokens = best.token({"grant_type": "authorization_code", "code": code,
                         "redirect_uri": CALLBACK, "code_verifier": verifier,
                         "client_id": best.spa.client_id}).json()
    _, claims = oidc_client.validate_id_token(
        tokens["id_token"], best.issuer, best.spa.client_id, "n1",
        tokens["access_token"])
    assert claims["auth_time"] >= before
    again = _get(best, _params(best.spa.client_id, prompt="login"))
    assert "Continue as" in again.text  # asked again on the next prompt=login


def test_prompt_consent_asks_again(best):
    _sign_in(best, best.spa.client_id)
    page = _get(best, _params(best.spa.client_id, prompt="consent"))
    assert page.status_code == 200 and 'name="decision"' in page.text


def test_max_age_exceeded_asks_to_sign_in_again(best):
    """OIDC Core §3.1.2.1: max_age; with prompt=none, login_required."""
    _sign_in(best, best.spa.client_id)
    assert _get(best, _params(best.spa.client_id, max_age="3600")).status_code == 302
    assert "Continue as" in _get(best, _params(best.spa.client_id,
                                               max_age="0")).text
    silent = _get(best, _params(best.spa.client_id, max_age="0", prompt="none"))
    assert query(silent.headers["Location"])["error"] == "login_required"
    wrong = _get(best, _params(best.spa.client_id, max_age="soon"))
    assert query(wrong.headers["Location"])["error"] == "invalid_request"


def test_the_spotify_like_issuer_has_no_openid_connect(spotify, live_server):
    """As Spotify: ``openid`` is an illegal scope, as any unknown scope, and there
    is no discovery, JWK Set or UserInfo. FAPI 2.0 has no OIDC either (yet)."""
    spotify.user_tokens()  # signed in, app approved: errors come back at once
    for path in ("/sandbox", "/sandbox/fapi2"):
        found = requests.get(live_server.url + path
                             + "/.well-known/openid-configuration", timeout=5)
        assert found.status_code == 404
    for path in ("/.well-known/jwks.json", "/api/userinfo"):
        assert requests.get(spotify.url(path), timeout=5).status_code == 404
    metadata = requests.get(spotify.url("/.well-known/oauth-authorization-server"),
                            timeout=5).json()
    assert "jwks_uri" not in metadata and "openid" not in metadata[
        "scopes_supported"]
    params = {"response_type": "code", "client_id": spotify.web.client_id,
              "redirect_uri": CALLBACK, "state": "st"}
    openid = query(spotify.authorize({**params, "scope": "openid"}).headers[
        "Location"])
    other = query(spotify.authorize({**params, "scope": "no-such-scope"}).headers[
        "Location"])
    assert openid == other and openid["error"] == "invalid_scope"
