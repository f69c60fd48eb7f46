"""Issue 21's "done when", by a client that imports nothing from the project
(``tests/independent.py``): from the metadata alone it registers at the FAPI 2.0
issuer, pushes its request, signs in, gets DPoP-bound tokens with private_key_jwt,
uses and refreshes them, and sees every misuse refused; and it signs in with OpenID
Connect at the best-practice issuer and verifies the id_token with joserfc, a JOSE
library the project does not use."""

from __future__ import annotations

import time

import pytest
import requests
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.independent import REDIRECT
from tests.independent import Client
from tests.independent import Key
from tests.independent import back
from tests.independent import claims_of
from tests.independent import header_of
from tests.independent import pkce

FAPI = "/.well-known/oauth-authorization-server/sandbox/fapi2"
BEST = "/sandbox/best-practice/.well-known/openid-configuration"


@pytest.fixture
def fapi(live_server) -> Client:
    client = Client.discover(live_server.url + FAPI)
    answer = client.register()
    assert answer.status_code == 201, answer.text
    return client


def _pushed(client: Client, **extra) -> tuple[str, str]:
    """Push an authorization request (RFC 9126 §2.1): its request_uri and the
    code verifier the token request will need."""
    verifier, challenge = pkce()
    answer = client.post("pushed_authorization_request_endpoint", {
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": REDIRECT, "scope": "user-read-private", "state": "s-1",
        "code_challenge": challenge, "code_challenge_method": "S256",
        "dpop_jkt": client.dpop_key.thumbprint(), **extra}, dpop=False)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert 0 < body["expires_in"] <= 600
    return body["request_uri"], verifier


def _code(client: Client) -> tuple[str, str]:
    request_uri, verifier = _pushed(client)
    params = back(client.authorize({"client_id": client.client_id,
                                    "request_uri": request_uri}))
    assert params["state"] == "s-1" and params["iss"] == client.issuer
    return params["code"], verifier


def _redeem(client: Client, code: str, verifier: str) -> list[requests.Response]:
    return client.post_with_nonce("token_endpoint", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})


def _api(client: Client) -> str:
    return client.issuer + "/v1/me"


def test_the_metadata_alone_says_how_to_talk_to_the_fapi2_issuer(live_server):
    meta = Client.discover(live_server.url + FAPI).meta
    assert meta["issuer"] == live_server.url + "/sandbox/fapi2"
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "ES256" in meta["dpop_signing_alg_values_supported"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    for name in ("pushed_authorization_request_endpoint", "registration_endpoint",
                 "token_endpoint", "authorization_endpoint"):
        assert meta[name].startswith(meta["issuer"] + "/"), name


def test_register_push_sign_in_and_use_and_refresh_dpop_bound_tokens(fapi):
    code, verifier = _code(fapi)
    answers = _redeem(fapi, code, verifier)
    tokens = answers[-1].json()
    assert answers[-1].status_code == 200, tokens
    assert tokens["token_type"] == "DPoP"
    assert answers[-1].headers["Cache-Control"] == "no-store"
    if tokens["access_token"].count(".") == 2:  # a JWT access token (RFC 9068)
        assert header_of(tokens["access_token"])["typ"] == "at+jwt"
        assert claims_of(tokens["access_token"])["cnf"] == {
            "jkt": fapi.dpop_key.thumbprint()}

    me = fapi.call(_api(fapi), tokens["access_token"])
    assert me.status_code == 200, (me.status_code, me.headers, me.text)

    refreshed = fapi.post_with_nonce("token_endpoint", {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed[-1].status_code == 200, refreshed[-1].text
    assert refreshed[-1].json()["token_type"] == "DPoP"
    again = fapi.call(_api(fapi), refreshed[-1].json()["access_token"])
    assert again.status_code == 200


@pytest.mark.parametrize("method", ["none", "client_secret_basic",
                                    "client_secret_post"])
def test_only_private_key_jwt_clients_may_register_at_fapi2(live_server, method):
    client = Client.discover(live_server.url + FAPI)
    answer = client.register(token_endpoint_auth_method=method)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client_metadata"


def test_a_javascript_redirect_uri_is_refused_at_registration(live_server):
    client = Client.discover(live_server.url + FAPI)
    answer = client.register(redirect_uris=["javascript:alert(1)"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


def test_authorize_without_a_pushed_request_gives_no_code(fapi):
    verifier, challenge = pkce()
    answer = fapi.authorize({"response_type": "code", "client_id": fapi.client_id,
                             "redirect_uri": REDIRECT, "state": "s",
                             "code_challenge": challenge,
                             "code_challenge_method": "S256"})
    if answer.is_redirect:
        assert "code" not in back(answer) and back(answer)["error"]
    else:
        assert answer.status_code >= 400


def test_a_request_uri_is_used_once(fapi):
    request_uri, _ = _pushed(fapi)
    back(fapi.authorize({"client_id": fapi.client_id, "request_uri": request_uri}))
    answer = fapi.authorize({"client_id": fapi.client_id, "request_uri": request_uri})
    if answer.is_redirect:
        assert "code" not in back(answer)
    else:
        assert answer.status_code >= 400


def test_a_token_request_without_a_proof_is_refused_and_consumes_nothing(fapi):
    code, verifier = _code(fapi)
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": REDIRECT, "code_verifier": verifier}
    bare = fapi.post("token_endpoint", form, dpop=False)
    assert bare.status_code == 400
    assert bare.json()["error"] in ("invalid_dpop_proof", "invalid_request")
    assert _redeem(fapi, code, verifier)[-1].status_code == 200


@pytest.mark.parametrize("change, error", [
    ({"htu": "http://127.0.0.1:1/elsewhere"}, "invalid_dpop_proof"),
    ({"htm": "GET"}, "invalid_dpop_proof"),
    ({"iat": int(time.time()) - 3600}, "invalid_dpop_proof"),
])
def test_a_bad_proof_is_refused_and_consumes_nothing(fapi, change, error):
    code, verifier = _code(fapi)
    fapi.learn_nonce()
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": REDIRECT, "code_verifier": verifier}
    bad = fapi.post("token_endpoint", form, **change)
    assert bad.status_code == 400 and bad.json()["error"] == error, bad.text
    assert _redeem(fapi, code, verifier)[-1].status_code == 200


def test_a_replayed_proof_is_refused(fapi):
    first_code, first_verifier = _code(fapi)
    second_code, second_verifier = _code(fapi)
    fapi.learn_nonce()
    url = fapi.meta["token_endpoint"]
    proof = fapi.proof("POST", url)
    form = {"grant_type": "authorization_code", "redirect_uri": REDIRECT}
    first = requests.post(url, headers={"DPoP": proof}, timeout=10, data={
        **form, "code": first_code, "code_verifier": first_verifier,
        **fapi.assertion()})
    assert first.status_code == 200, first.text
    replay = requests.post(url, headers={"DPoP": proof}, timeout=10, data={
        **form, "code": second_code, "code_verifier": second_verifier,
        **fapi.assertion()})
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_dpop_proof"
    assert _redeem(fapi, second_code, second_verifier)[-1].status_code == 200


def test_client_assertions_are_single_use_and_for_the_issuer_only(fapi):
    url = fapi.meta["token_endpoint"]
    form = {"grant_type": "refresh_token", "refresh_token": "whatever"}
    fapi.learn_nonce()
    used = fapi.assertion()
    requests.post(url, data={**form, **used}, timeout=10,
                  headers={"DPoP": fapi.proof("POST", url)})
    for fields in (used, fapi.assertion(aud=url),
                   fapi.assertion(aud=[fapi.issuer, url]),
                   fapi.assertion(iss="someone-else"),
                   fapi.assertion(exp=int(time.time()) - 60)):
        answer = requests.post(url, data={**form, **fields}, timeout=10,
                               headers={"DPoP": fapi.proof("POST", url)})
        assert answer.status_code == 401, (fields, answer.text)
        assert answer.json()["error"] == "invalid_client"


def test_a_dpop_token_is_refused_as_bearer_and_without_ath(fapi):
    code, verifier = _code(fapi)
    token = _redeem(fapi, code, verifier)[-1].json()["access_token"]
    as_bearer = fapi.call(_api(fapi), token, scheme="Bearer")
    assert as_bearer.status_code == 401
    no_ath = fapi.call(_api(fapi), token, ath=None)
    assert no_ath.status_code == 401
    assert "invalid_dpop_proof" in no_ath.headers["WWW-Authenticate"]
    assert fapi.call(_api(fapi), token).status_code == 200


def test_a_refresh_without_a_proof_is_refused(fapi):
    code, verifier = _code(fapi)
    tokens = _redeem(fapi, code, verifier)[-1].json()
    bare = fapi.post("token_endpoint", {"grant_type": "refresh_token",
                                        "refresh_token": tokens["refresh_token"]},
                     dpop=False)
    assert bare.status_code == 400


def test_sign_in_with_openid_connect_verified_by_another_jose_library(live_server):
    config = requests.get(live_server.url + BEST, timeout=10).json()
    client = Client(config)
    answer = client.register(token_endpoint_auth_method="none",
                             grant_types=["authorization_code"], jwks=None)
    assert answer.status_code == 201, answer.text
    verifier, challenge = pkce()
    params = back(client.authorize({
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": REDIRECT, "scope": "openid profile", "state": "s",
        "nonce": "n-0S6_WzA2Mj", "code_challenge": challenge,
        "code_challenge_method": "S256"}))
    tokens = requests.post(config["token_endpoint"], data={
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": REDIRECT, "code_verifier": verifier,
        "client_id": client.client_id}, timeout=10).json()
    keys = KeySet.import_key_set(requests.get(config["jwks_uri"], timeout=10).json())
    token = jose_jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    claims = token.claims
    assert token.header["kid"] in {key.kid for key in keys}
    assert claims["iss"] == config["issuer"] and claims["aud"] == client.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["exp"] > time.time()
    assert "azp" not in claims and "auth_time" in claims
    userinfo = requests.get(config["userinfo_endpoint"], timeout=10, headers={
        "Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == claims["sub"]


def test_a_proof_at_par_binds_the_code_to_that_key(fapi):
    """RFC 9449 §10.1: a DPoP header at the PAR endpoint instead of
    ``dpop_jkt``; the token request must then come with a proof by that key."""
    verifier, challenge = pkce()
    pushed = fapi.post_with_nonce("pushed_authorization_request_endpoint", {
        "response_type": "code", "client_id": fapi.client_id,
        "redirect_uri": REDIRECT, "scope": "user-read-private", "state": "s-2",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert pushed[-1].status_code == 201, pushed[-1].text
    params = back(fapi.authorize({"client_id": fapi.client_id,
                                  "request_uri": pushed[-1].json()["request_uri"]}))
    bound, fapi.dpop_key = fapi.dpop_key, Key()
    wrong = _redeem(fapi, params["code"], verifier)[-1]
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["error"] in ("invalid_dpop_proof", "invalid_grant")
    fapi.dpop_key = bound
    tokens = _redeem(fapi, params["code"], verifier)[-1]
    assert tokens.status_code == 200, tokens.text
    if tokens.json()["access_token"].count(".") == 2:
        assert claims_of(tokens.json()["access_token"])["cnf"] == {
            "jkt": bound.thumbprint()}


def test_the_registration_is_replaced_with_its_access_token(fapi):
    """RFC 7592 §2.2: PUT the whole metadata to the registration client URI;
    the new key authenticates from then on; a wrong token or a bad redirect URI
    changes nothing."""
    assert fapi.update("not-the-token", client_name="Taken").status_code == 401
    bad = fapi.update(redirect_uris=["javascript:alert(1)"])
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_redirect_uri"
    old, fapi.key = fapi.key, Key()
    answer = fapi.update(client_name="Independent client, new key")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["client_id"] == fapi.client_id
    assert body["client_name"] == "Independent client, new key"
    assert [key["kid"] for key in body["jwks"]["keys"]] == [fapi.key.kid]
    read = requests.get(fapi.management[0], timeout=10, headers={
        "Authorization": "Bearer " + fapi.management[1]})
    assert read.status_code == 200 and read.json()["client_name"] == body[
        "client_name"]
    assert _pushed(fapi)[0]  # signed with the new key: accepted
    fapi.key = old
    refused = fapi.post("pushed_authorization_request_endpoint", {
        "response_type": "code", "client_id": fapi.client_id}, dpop=False)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
