"""Issue 22 parts 1 and 2, the inspector's JSON contract, by a client that imports
nothing from the project: ``POST /api/inspect`` with ``{"input": …}`` answers
``{"kind", "parts", "findings"}`` for every kind, with messages captured from a real
flow against the app's own sandbox issuers (``tests/independent.py``), and refuses
malformed JSON (400) and input over 64 KB (413) as JSON."""

from __future__ import annotations

import json
import logging
import re
import secrets
import shlex
from pathlib import Path

import pytest
import requests

from tests.independent import REDIRECT
from tests.independent import Client
from tests.independent import claims_of
from tests.independent import pkce

BEST = "/sandbox/best-practice/.well-known/openid-configuration"
KINDS = {"authorization_request", "authorization_response", "token_request",
         "token_response", "error_response", "jwt", "discovery",
         "www_authenticate", "unknown"}
SEVERITIES = {"high", "medium", "low", "info"}


def inspect(server, text: str) -> dict:
    answer = requests.post(server.url + "/api/inspect", json={"input": text},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in answer.headers  # no session
    body = answer.json()
    assert set(body) == {"kind", "parts", "findings"}
    assert body["kind"] in KINDS
    for part in body["parts"]:
        assert set(part) == {"name", "value", "explain", "ref"}
        assert all(isinstance(v, str) for v in part.values()), part
    for finding in body["findings"]:
        assert set(finding) == {"severity", "message", "ref"}
        assert finding["severity"] in SEVERITIES
    return body


def names(body: dict) -> list[str]:
    return [part["name"] for part in body["parts"]]


def part(body: dict, name: str) -> dict:
    return next(p for p in body["parts"] if p["name"] == name)


def serious(body: dict) -> list[dict]:
    return [f for f in body["findings"] if f["severity"] in ("high", "medium")]


def as_http(prepared: requests.PreparedRequest) -> str:
    """A request as raw HTTP text, the way a log or a proxy shows it."""
    path = prepared.path_url
    lines = [f"{prepared.method} {path} HTTP/1.1",
             *(f"{k}: {v}" for k, v in prepared.headers.items())]
    body = prepared.body or ""
    return "\r\n".join(lines) + "\r\n\r\n" + (
        body.decode() if isinstance(body, bytes) else body)


@pytest.fixture(scope="module")
def flow(live_server) -> dict:
    """One OpenID Connect sign-in at the best-practice issuer, every message kept."""
    config = requests.get(live_server.url + BEST, timeout=10)
    client = Client(config.json())
    assert client.register(token_endpoint_auth_method="none",
                           grant_types=["authorization_code"],
                           jwks=None).status_code == 201
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": REDIRECT, "scope": "openid profile",
              "state": "s-4Vq", "nonce": "n-0S6_WzA2Mj",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    url = requests.Request("GET", client.meta["authorization_endpoint"],
                           params=params).prepare().url
    callback = client.authorize(params).headers["Location"]
    code = dict(p.split("=", 1) for p in callback.split("?", 1)[1].split("&"))["code"]
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": REDIRECT, "code_verifier": verifier,
            "client_id": client.client_id}
    answer = requests.post(client.meta["token_endpoint"], data=form, timeout=10)
    assert answer.status_code == 200, answer.text
    again = requests.post(client.meta["token_endpoint"], data=form, timeout=10)
    assert again.status_code == 400
    api = client.issuer + "/v1/me"
    refused = requests.get(api, headers={"Authorization": "Bearer not-a-token"},
                           timeout=10)
    return {"client": client, "url": url, "callback": callback, "code": code,
            "verifier": verifier, "metadata": config.text,
            "token_request": as_http(answer.request), "form": form,
            "token_response": answer.text, "tokens": answer.json(),
            "error_response": again.text,
            "www_authenticate": refused.headers["WWW-Authenticate"],
            "proof": client.proof("GET", api, answer.json()["access_token"]),
            "assertion": client.assertion()["client_assertion"]}


def test_an_authorization_url_is_explained_part_by_part(live_server, flow):
    body = inspect(live_server, flow["url"])
    assert body["kind"] == "authorization_request"
    assert names(body) == ["response_type", "client_id", "redirect_uri", "scope",
                           "state", "nonce", "code_challenge",
                           "code_challenge_method"]
    response_type = part(body, "response_type")
    assert response_type["value"] == "code"
    assert response_type["explain"] and "RFC 6749" in response_type["ref"]
    assert part(body, "redirect_uri")["value"] == REDIRECT
    assert serious(body) == []  # a sound request


def test_a_callback_is_an_authorization_response_with_its_code_masked(
        live_server, flow):
    body = inspect(live_server, flow["callback"])
    assert body["kind"] == "authorization_response"
    assert {"code", "state", "iss"} <= set(names(body))
    assert part(body, "state")["value"] == "s-4Vq"
    assert part(body, "code")["value"] != flow["code"]
    assert flow["code"] not in json.dumps(body)
    assert part(body, "code")["explain"] and part(body, "code")["ref"]


@pytest.mark.parametrize("callback", [
    REDIRECT + "?error=access_denied&error_description=The+user+said+no&state=x",
    REDIRECT + "#error=access_denied&state=x",
])
def test_a_callback_with_an_error_is_an_authorization_response(live_server,
                                                                callback):
    body = inspect(live_server, callback)
    assert body["kind"] == "authorization_response"
    assert part(body, "error")["value"] == "access_denied"


def test_a_token_request_as_raw_http_is_explained_with_its_secrets_masked(
        live_server, flow):
    body = inspect(live_server, flow["token_request"])
    assert body["kind"] == "token_request"
    assert {"grant_type", "code", "redirect_uri", "code_verifier", "client_id",
            "Content-Type"} <= set(names(body))
    assert part(body, "grant_type")["value"] == "authorization_code"
    text = json.dumps(body)
    assert flow["code"] not in text and flow["verifier"] not in text
    assert part(body, "code_verifier")["ref"]


def test_a_curl_command_is_a_token_request(live_server, flow):
    token_endpoint = flow["client"].meta["token_endpoint"]
    command = (f"curl -X POST {shlex.quote(token_endpoint)} \\\n"
               "  -H 'Content-Type: application/x-www-form-urlencoded' \\\n"
               "  -u 'my-client:s3cr3t-Value-0123456789abcdef' \\\n"
               "  -d grant_type=authorization_code "
               f"-d code={flow['code']} "
               f"--data-urlencode 'redirect_uri={REDIRECT}'")
    body = inspect(live_server, command)
    assert body["kind"] == "token_request"
    assert {"grant_type", "code", "redirect_uri", "Authorization"} <= set(
        names(body))
    assert part(body, "redirect_uri")["value"] == REDIRECT
    text = json.dumps(body)
    assert "s3cr3t-Value-0123456789abcdef" not in text
    assert flow["code"] not in text


def test_a_token_response_is_explained_with_its_tokens_masked(live_server, flow):
    body = inspect(live_server, flow["token_response"])
    assert body["kind"] == "token_response"
    assert {"access_token", "token_type", "expires_in", "id_token"} <= set(
        names(body))
    assert part(body, "token_type")["explain"]
    assert "RFC 6749" in part(body, "expires_in")["ref"]
    text = json.dumps(body)
    for token in flow["tokens"].values():
        if isinstance(token, str) and len(token) > 20:
            assert token not in text


def test_an_error_response_is_recognised(live_server, flow):
    body = inspect(live_server, flow["error_response"])
    assert body["kind"] == "error_response"
    assert part(body, "error")["value"] == "invalid_grant"
    assert "RFC 6749" in part(body, "error")["ref"]


def test_spotify_api_errors_are_error_responses(live_server):
    body = inspect(live_server, '{"error": {"status": 401, "message": '
                                '"The access token expired"}}')
    assert body["kind"] == "error_response"


def named(body: dict) -> str:
    """The JWT's use, as the answer names it: an info finding."""
    return " ".join(f["message"] for f in body["findings"]
                    if f["severity"] == "info")


def test_an_id_token_is_a_jwt_named_and_explained_claim_by_claim(live_server, flow):
    body = inspect(live_server, flow["tokens"]["id_token"])
    assert body["kind"] == "jwt"
    assert {"alg", "kid", "iss", "sub", "aud", "exp", "iat", "nonce"} <= set(
        names(body))
    assert part(body, "alg")["value"] == "RS256"
    assert part(body, "nonce")["value"] == "n-0S6_WzA2Mj"
    assert part(body, "exp")["explain"] and part(body, "exp")["ref"]
    assert "id_token" in named(body)
    assert serious(body) == []


def test_a_jwt_access_token_is_named(live_server, flow):
    token = flow["tokens"]["access_token"]
    if token.count(".") != 2:
        pytest.skip("this issuer's access tokens are opaque")
    body = inspect(live_server, token)
    assert body["kind"] == "jwt"
    assert "access token" in named(body)
    assert part(body, "typ")["value"] == "at+jwt"


def test_a_dpop_proof_is_named(live_server, flow):
    body = inspect(live_server, flow["proof"])
    assert body["kind"] == "jwt"
    assert "DPoP proof" in named(body)
    assert {"typ", "jwk", "htm", "htu", "iat", "jti", "ath"} <= set(names(body))
    assert part(body, "htm")["value"] == "GET"
    assert serious(body) == []


def test_a_client_assertion_is_named(live_server, flow):
    assertion = flow["assertion"]
    assert claims_of(assertion)["iss"] == claims_of(assertion)["sub"]
    body = inspect(live_server, assertion)
    assert body["kind"] == "jwt"
    assert "client assertion" in named(body)


def test_discovery_metadata_is_explained_field_by_field(live_server, flow):
    body = inspect(live_server, flow["metadata"])
    assert body["kind"] == "discovery"
    assert {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
            "code_challenge_methods_supported"} <= set(names(body))
    assert part(body, "code_challenge_methods_supported")["value"] == '["S256"]'
    assert "RFC 8414" in part(body, "issuer")["ref"]


def test_a_www_authenticate_header_is_explained(live_server, flow):
    header = flow["www_authenticate"]
    for text in (header, "WWW-Authenticate: " + header):
        body = inspect(live_server, text)
        assert body["kind"] == "www_authenticate"
        assert part(body, "error")["value"] == "invalid_token"
        assert part(body, "WWW-Authenticate")["ref"]


@pytest.mark.parametrize("text", [
    "", "hello world", "{}", "[1, 2]", '{"name": "Ada"}', "https://example.com/",
    "https://example.com/search?q=oauth", "eyJhbGciOi.not.a.jwt", "GET / HTTP/1.1",
    "curl https://example.com/", "aGVsbG8=", "null",
])
def test_anything_else_is_unknown_with_no_parts(live_server, text):
    body = inspect(live_server, text)
    assert body == {"kind": "unknown", "parts": [], "findings": []}


@pytest.mark.parametrize("data", ["{not json", '{"input": 1}', '["x"]', "{}"])
def test_a_malformed_body_is_refused_as_json(live_server, data):
    answer = requests.post(live_server.url + "/api/inspect", data=data,
                           headers={"Content-Type": "application/json"},
                           timeout=10)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]


def test_input_over_64_kb_is_refused_as_json(live_server):
    answer = requests.post(live_server.url + "/api/inspect",
                           json={"input": "a" * (64 * 1024 + 1)}, timeout=10)
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]
    fits = requests.post(live_server.url + "/api/inspect",
                         json={"input": "a" * (64 * 1024)}, timeout=10)
    assert fits.status_code == 200


def test_a_body_over_the_site_limit_is_refused_as_json(live_server):
    answer = requests.post(live_server.url + "/api/inspect",
                           json={"input": "a" * (2 * 1024 * 1024)}, timeout=10)
    assert answer.status_code == 413
    assert answer.json()["error"]


@pytest.mark.parametrize(("text", "kind"), [
    ("GET /cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz HTTP/1.1\nHost: app.example.com",
     "authorization_response"),
    ("com.example.app:/oauth2redirect?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
     "authorization_response"),
    ("https://as.example.com/authorize?client_id=app-1&request_uri=urn%3Aietf%3A"
     "params%3Aoauth%3Arequest_uri%3Abwc4JK", "authorization_request"),
    ("POST /token HTTP/1.1\nHost: as.example.com\n\n"
     "grant_type=client_credentials&scope=a", "token_request"),
    ("curl -X POST https://as.example.com/token \\\r\n  -d grant_type=refresh_token"
     " \\\r\n  -d refresh_token=tGzv3JOkF0XG5Qx2TlKWIA", "token_request"),
    ("HTTP/1.1 200 OK\nContent-Type: application/json\nCache-Control: no-store\n\n"
     '{"access_token": "2YotnFZFEjr1zCsicMWpAA", "token_type": "Bearer"}',
     "token_response"),
    ('HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer error="invalid_token"',
     "www_authenticate"),
    ('DPoP algs="ES256 PS256", error="use_dpop_nonce", Bearer realm="api"',
     "www_authenticate"),
    ('{"error": "invalid_request", "error_description": "Missing code"}',
     "error_response"),
    ('{"resource": "https://api.example.com", "authorization_servers": '
     '["https://as.example.com"]}', "discovery"),
    ("https://as.example.com/authorize?client_id=app-1&redirect_uri=https%3A%2F%2F"
     "app.example.com%2Fcb&scope=a", "authorization_request"),
    ("Basic YWJjOmRlZg==", "unknown"),
    ("Bearer 2YotnFZFEjr1zCsicMWpAA", "unknown"),
    ('{"active": true, "scope": "a"}', "unknown"),
    # A form_post callback (code and state posted, no client): not a token request.
    ("POST /cb HTTP/1.1\nHost: app.example.com\nContent-Type: application/x-www-"
     "form-urlencoded\n\ncode=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
     "authorization_response"),
    ('{"error": {"status": 401, "message": "Invalid access token"}}',
     "error_response"),  # Spotify's Web API; another object under error is unknown
    ('{"error": {"status": "401", "detail": "x"}}', "unknown"),
])
def test_more_shapes_of_each_kind(live_server, text, kind):
    assert inspect(live_server, text)["kind"] == kind


def test_the_answer_is_not_cached(live_server):
    answer = requests.post(live_server.url + "/api/inspect",
                           json={"input": "https://as.example.com/cb?code=x"},
                           timeout=10)
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_readme_example_answers_as_the_readme_says(live_server):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = re.search(r"api/inspect .*?\n\s+-d '(\{.*?\})'", readme, re.S)
    answer = requests.post(live_server.url + "/api/inspect", data=example[1],
                           headers={"Content-Type": "application/json"}, timeout=10)
    body = answer.json()
    assert body["kind"] == "authorization_request"
    assert {"severity": "high", "ref": "RFC 9700 §2.1.2"} in [
        {k: f[k] for k in ("severity", "ref")} for f in body["findings"]]
    assert any(f["message"].startswith("The implicit grant")
               for f in body["findings"])


def test_nothing_pasted_is_kept_or_logged(live_server, caplog):
    """Neither the API nor the page writes what was pasted to the app's files
    (its SQLite databases) or to any log."""
    caplog.set_level(logging.DEBUG)
    marker = "inspected-" + secrets.token_hex(8)
    text = url_with(marker)
    assert inspect(live_server, text)["kind"] == "authorization_request"
    browser = requests.Session()
    form = browser.get(live_server.url + "/inspect", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    page = browser.post(live_server.url + "/inspect", timeout=10,
                        data={"csrf_token": token, "input": text})
    assert page.status_code == 200 and "authorization_request" in page.text
    assert marker not in caplog.text
    for path in Path(live_server.app.instance_path).rglob("*"):
        if path.is_file():
            assert marker.encode() not in path.read_bytes(), path


def url_with(state: str) -> str:
    return ("https://as.example.com/authorize?response_type=code&client_id=app-1"
            f"&state={state}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb")


def test_the_home_page_leads_to_the_inspector(live_server):
    home = requests.get(live_server.url + "/", timeout=10)
    assert re.search(r'<a href="/inspect">inspector</a>', home.text)
    page = requests.get(live_server.url + "/inspect", timeout=10)
    for tool in ("/inspect/jwt", "/inspect/value", "/inspect/report"):
        assert f'href="{tool}"' in page.text, tool
