"""Issue 22 part 2, the inspector's findings, by a client that imports nothing from
the project: one case per rule of ``content/inspect/rules.toml`` (each seen firing
with its severity and RFC section), the severities the issue fixes, and sound
requests with no high or medium finding."""

from __future__ import annotations

import base64
import json
import re
import time
import tomllib
from pathlib import Path

import pytest
import requests

RULES = tomllib.loads((Path(__file__).resolve().parent.parent / "content" / "inspect"
                       / "rules.toml").read_text(encoding="utf-8"))["rule"]
KINDS = {"authorization_request", "authorization_response", "token_request",
         "token_response", "error_response", "jwt", "discovery",
         "www_authenticate"}
AS = "https://as.example.com/authorize"
GOOD = {"response_type": "code", "client_id": "app-1",
        "redirect_uri": "https://app.example.com/cb", "scope": "openid profile",
        "state": "af0ifjsldkj", "code_challenge":
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"}
NOW = int(time.time())


def url(base: str = AS, drop: tuple = (), **changes) -> str:
    params = {k: v for k, v in {**GOOD, **changes}.items() if k not in drop}
    return requests.Request("GET", base, params=params).prepare().url


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt(header: dict, claims: dict) -> str:
    return f"{b64(header)}.{b64(claims)}.c2lnbmF0dXJl"


def id_token(drop: tuple = (), header: dict | None = None, **claims) -> str:
    now = int(time.time())  # when made, not when the module was collected
    body = {"iss": "https://as.example.com", "sub": "u-1", "aud": "app-1",
            "exp": now + 600, "iat": now, "nonce": "n-1", **claims}
    return jwt(header or {"alg": "RS256", "kid": "k1"},
               {k: v for k, v in body.items() if k not in drop})


def proof(**claims) -> str:
    body = {"jti": "j-1", "htm": "GET", "htu": "https://api.example.com/v1/me",
            "iat": int(time.time()),
            "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", **claims}
    return jwt({"alg": "ES256", "typ": "dpop+jwt",
                "jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}},
               {k: v for k, v in body.items() if v is not None})


def token_request(*extra_headers: str, **form) -> str:
    body = "&".join(f"{k}={v}" for k, v in {
        "grant_type": "authorization_code", "code": "c-1",
        "redirect_uri": "https://app.example.com/cb", "code_verifier": "v" * 43,
        "client_id": "app-1", **form}.items())
    return "\n".join(["POST /token HTTP/1.1", "Host: as.example.com",
                      "Content-Type: application/x-www-form-urlencoded",
                      *extra_headers, "", body])


def metadata(**changes) -> str:
    """A sound issuer's metadata (RFC 8414 §2), with ``changes`` (None drops)."""
    body = {"issuer": "https://as.example.com",
            "authorization_endpoint": "https://as.example.com/authorize",
            "token_endpoint": "https://as.example.com/token",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not None})


# (rule id, pasted text, severity, a word of the message)
CASES = [
    ("implicit-grant", url(response_type="token", drop=("code_challenge",
                                                         "code_challenge_method")),
     "high", "implicit"),
    ("implicit-grant-spotify", url("https://accounts.spotify.com/authorize",
                                   response_type="token"), "info", "Spotify"),
    ("no-state", url(drop=("state",)), "medium", "state"),
    ("no-pkce", url(drop=("code_challenge", "code_challenge_method")), "high",
     "PKCE"),
    ("no-pkce-verifier", token_request().replace("&code_verifier=" + "v" * 43, ""),
     "high", "code_verifier"),
    ("pkce-plain", url(code_challenge_method="plain"), "high", "plain"),
    ("pkce-plain-by-default", url(drop=("code_challenge_method",)), "high", "plain"),
    ("localhost-redirect", url(redirect_uri="http://localhost:8888/callback"),
     "medium", "localhost"),
    ("plain-http-redirect", url(redirect_uri="http://app.example.com/cb"), "medium",
     "http"),
    ("wide-scope", url(scope="a b c d e f g h"), "low", "scopes"),
    ("secret-in-url", url(client_secret="s3cr3t-v4lue-abc"), "high", "secret"),
    ("token-in-url", "https://app.example.com/cb#access_token=at-123&token_type="
     "Bearer&state=x", "high", "token"),
    ("secret-in-browser", token_request("Origin: https://app.example.com",
                                        client_secret="s3cr3t-v4lue-abc"),
     "high", "secret"),
    ("basic-in-browser", token_request("Origin: https://app.example.com",
                                       "Authorization: Basic YXBwLTE6czNjcjN0"),
     "high", "Basic"),
    ("refresh-in-browser", token_request("Origin: https://app.example.com",
                                         grant_type="refresh_token",
                                         refresh_token="r-1"), "low", "refresh"),
    ("use-id-token", id_token(), "info", "id_token"),
    ("use-id-token", id_token(drop=("nonce",)), "info", "id_token"),
    ("use-access-token", jwt({"alg": "RS256", "typ": "at+jwt"}, {
        "iss": "https://as.example.com", "sub": "u-1", "aud": "https://api",
        "exp": NOW + 60, "iat": NOW, "client_id": "app-1", "scope": "a"}),
     "info", "access token"),
    ("use-client-assertion", jwt({"alg": "ES256"}, {
        "iss": "app-1", "sub": "app-1", "aud": "https://as.example.com",
        "exp": NOW + 60, "jti": "j-1"}), "info", "client assertion"),
    ("use-dpop-proof", proof(), "info", "DPoP proof"),
    ("use-unknown", jwt({"alg": "RS256"}, {"hello": "world"}), "info",
     "what this JWT is for"),
    ("alg-none", jwt({"alg": "none"}, {"iss": "https://as.example.com", "sub": "u",
                                       "aud": "app-1", "nonce": "n"}),
     "high", "none"),
    ("hs256-id-token", id_token(header={"alg": "HS256"}), "medium", "HS256"),
    ("expired", id_token(exp=NOW - 3600), "medium", "expired"),
    ("not-yet-valid", id_token(nbf=NOW + 3600), "medium", "not yet valid"),
    ("id-token-no-aud", jwt({"alg": "RS256"}, {
        "iss": "https://as.example.com", "sub": "u", "nonce": "n", "exp": NOW + 60}),
     "high", "aud"),
    ("id-token-no-iss", id_token(drop=("iss",)), "high", "iss"),
    ("id-token-no-nonce", id_token(drop=("nonce",), auth_time=NOW), "low", "nonce"),
    ("access-token-typ", jwt({"alg": "RS256", "typ": "JWT"}, {
        "iss": "https://as.example.com", "sub": "u-1", "aud": "https://api",
        "exp": NOW + 60, "scope": "a", "client_id": "app-1"}), "medium", "at+jwt"),
    ("dpop-no-ath", proof(ath=None), "medium", "ath"),
    ("dpop-stale", proof(iat=NOW - 3600), "medium", "stale"),
    ("dpop-htu-query", proof(htu="https://api.example.com/v1/me?x=1"), "medium",
     "query"),
    ("token-response-cacheable", "HTTP/1.1 200 OK\nContent-Type: application/json"
     '\n\n{"access_token": "at-1", "token_type": "Bearer"}', "medium", "no-store"),
    ("token-response-no-type", '{"access_token": "at-1", "expires_in": 3600}', "low",
     "token_type"),
    ("unregistered-error", '{"error": "token_expired"}', "low", "token_expired"),
    ("metadata-plain-pkce", metadata(code_challenge_methods_supported=[
        "plain", "S256"]), "medium", "plain"),
    ("metadata-no-pkce", metadata(code_challenge_methods_supported=None), "low",
     "PKCE"),
    ("metadata-implicit", metadata(response_types_supported=["code", "id_token token"]),
     "medium", "implicit"),
    ("metadata-http-issuer", metadata(issuer="http://as.example.com"), "medium",
     "https"),
    ("metadata-no-iss-parameter", metadata(
        authorization_response_iss_parameter_supported=None), "info", "mix-up"),
    ("challenge-invalid-token", 'Bearer error="invalid_token", error_description='
     '"The access token expired"', "info", "refused"),
    ("challenge-insufficient-scope", 'Bearer error="insufficient_scope", scope='
     '"playlist-modify-private"', "info", "scope"),
    ("challenge-dpop-nonce", 'DPoP error="use_dpop_nonce", algs="ES256"', "info",
     "nonce"),
]


def inspect(server, text: str) -> dict:
    answer = requests.post(server.url + "/api/inspect", json={"input": text},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_rule_is_data_in_the_agreed_shape():
    ids = [rule["id"] for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert set(rule["kinds"]) <= KINDS, rule["id"]
        assert rule["severity"] in {"high", "medium", "low", "info"}, rule["id"]
        assert rule["message"] and rule["applies"] in {"any", "spotify"}, rule["id"]
        assert re.match(r"(RFC \d+ §\d|OpenID Connect Core §\d)", rule["ref"]), (
            rule["id"])
    assert set(ids) == {case[0] for case in CASES}  # each one tested


@pytest.mark.parametrize(("rule", "text", "severity", "word"), CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)])
def test_each_rule_fires_with_its_severity_and_reference(live_server, rule, text,
                                                         severity, word):
    expected = next(r for r in RULES if r["id"] == rule)
    found = [f for f in inspect(live_server, text)["findings"]
             if f["ref"] == expected["ref"] and f["severity"] == severity]
    assert found, inspect(live_server, text)
    assert any(word.lower() in f["message"].lower() for f in found), found


@pytest.mark.parametrize(("text", "severity", "ref"), [
    (url(response_type="token"), "high", "RFC 9700 §2.1.2"),
    (url(drop=("code_challenge", "code_challenge_method")), "high",
     "RFC 9700 §2.1.1"),
    (url(code_challenge_method="plain"), "high", "RFC 9700 §2.1.1"),
    (url(client_secret="s3cr3t-v4lue-abc"), "high", "RFC 6749 §2.3.1"),
    ("https://app.example.com/cb?access_token=at-1", "high", "RFC 9700 §2.1.2"),
    (jwt({"alg": "none"}, {"sub": "u"}), "high", "RFC 8725 §3.1"),
    (url(drop=("state",)), "medium", "RFC 9700 §2.1"),
    (url(redirect_uri="http://localhost/cb"), "medium", "RFC 8252"),
    (url(redirect_uri="http://192.168.1.2/cb"), "medium", "RFC 9700"),
])
def test_the_severities_the_issue_fixes(live_server, text, severity, ref):
    findings = inspect(live_server, text)["findings"]
    assert any(f["severity"] == severity and ref in f["ref"] for f in findings), (
        findings)


def test_a_secret_in_a_url_is_not_echoed_back(live_server):
    body = inspect(live_server, url(client_secret="s3cr3t-v4lue-abcdef"))
    assert "s3cr3t-v4lue-abcdef" not in json.dumps(body)


def test_the_implicit_grant_note_for_spotify_only_at_spotify(live_server):
    elsewhere = inspect(live_server, url(response_type="token"))
    assert not any("Spotify removed" in f["message"] for f in elsewhere["findings"])


@pytest.mark.parametrize("make", [
    url, lambda: url(redirect_uri="http://127.0.0.1:8765/cb"),
    lambda: url(redirect_uri="http://[::1]:8765/cb"),
    lambda: url(redirect_uri="com.example.app:/cb"),
    lambda: url(drop=("state", "code_challenge", "code_challenge_method",
                      "redirect_uri", "scope", "response_type"),
                request_uri="urn:ietf:params:oauth:request_uri:abc"),
    token_request, id_token, proof,
    lambda: proof(ath=None, htm="POST", htu="https://as.example.com/token"),
    metadata, lambda: metadata(issuer="http://127.0.0.1:5000/sandbox"),
    lambda: "HTTP/1.1 200 OK\nContent-Type: application/json\nCache-Control: "
            'no-store\n\n{"access_token": "at-1", "token_type": "Bearer"}',
    lambda: '{"error": "invalid_grant", "error_description": "The code was used"}',
])
def test_a_sound_message_gets_no_high_or_medium_finding(live_server, make):
    """Made when the test runs: a JWT or proof made at collection is stale by the
    time a long suite reaches it."""
    body = inspect(live_server, make())
    assert body["kind"] != "unknown"
    assert [f for f in body["findings"] if f["severity"] in ("high", "medium")] == []
