"""CORS for browser apps that use DPoP (RFC 9449 §4.1, §8, §9; Fetch's CORS
protocol): a page on another origin sends a ``DPoP`` header, so the browser asks
first (a preflight); and it may read ``DPoP-Nonce`` and ``WWW-Authenticate`` only
if the answer exposes them. At the issuers that offer DPoP the token endpoint, the
PAR endpoint and the API allow the header and expose both; the Spotify-like
issuer answers as before (``tests/test_spa.py``, ``tests/test_sandbox_api.py``)."""

from __future__ import annotations

import pytest
import requests

from tests.independent import Client

ORIGIN = "http://127.0.0.1:4321"  # a page on another origin than the sandbox
ISSUERS = ["/sandbox/best-practice", "/sandbox/fapi2"]


def _names(value: str | None) -> set[str]:
    return {name.strip().lower() for name in (value or "").split(",") if name.strip()}


def _preflight(url: str, method: str, headers: str) -> requests.Response:
    return requests.options(url, timeout=5, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def _meta(live_server, path: str) -> dict:
    return requests.get(live_server.url + "/.well-known/oauth-authorization-server"
                        + path, timeout=5).json()


def _exposes_dpop(answer: requests.Response) -> None:
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert {"dpop-nonce", "www-authenticate"} <= _names(
        answer.headers.get("Access-Control-Expose-Headers"))


@pytest.mark.parametrize("path", ISSUERS)
def test_the_token_and_par_endpoints_grant_a_dpop_preflight(live_server, path):
    meta = _meta(live_server, path)
    for endpoint in ("token_endpoint", "pushed_authorization_request_endpoint"):
        answer = _preflight(meta[endpoint], "POST", "dpop")
        assert answer.status_code in (200, 204), (endpoint, answer.text)
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "dpop" in _names(answer.headers["Access-Control-Allow-Headers"])
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
        # A secret has no place in a page: Basic is still not granted there.
        basic = _preflight(meta[endpoint], "POST", "authorization")
        assert "authorization" not in _names(
            basic.headers.get("Access-Control-Allow-Headers"))


@pytest.mark.parametrize("path", ISSUERS)
def test_a_page_can_read_the_nonce_challenge(live_server, path):
    """RFC 9449 §8: the 400 ``use_dpop_nonce`` and its ``DPoP-Nonce``, at the
    token endpoint and at the PAR endpoint, readable by the page."""
    client = Client(_meta(live_server, path))
    for endpoint in ("token_endpoint", "pushed_authorization_request_endpoint"):
        url = client.meta[endpoint]
        answer = requests.post(url, timeout=5, data={"client_id": "x"}, headers={
            "Origin": ORIGIN, "DPoP": client.proof("POST", url)})
        assert answer.status_code == 400, (endpoint, answer.text)
        assert answer.json()["error"] == "use_dpop_nonce"
        assert answer.headers["DPoP-Nonce"]
        _exposes_dpop(answer)


@pytest.mark.parametrize("path", ISSUERS)
def test_the_api_grants_dpop_and_exposes_its_challenge(live_server, path):
    """RFC 9449 §7.1, §9: the API's 401 and ``DPoP-Nonce``, readable by the page."""
    api = live_server.url + path + "/v1/me"
    answer = _preflight(api, "GET", "authorization, dpop")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert {"authorization", "dpop"} <= _names(
        answer.headers["Access-Control-Allow-Headers"])
    refused = requests.get(api, timeout=5, headers={
        "Origin": ORIGIN, "Authorization": "DPoP not-a-token"})
    assert refused.status_code == 401
    _exposes_dpop(refused)


def test_userinfo_grants_the_authorization_header_to_a_page(live_server):
    """OIDC Core §5.3 from a page: the Bearer header needs a granted preflight,
    and the 401's challenge is exposed."""
    url = _meta(live_server, "/sandbox/best-practice")["issuer"] + "/api/userinfo"
    answer = _preflight(url, "GET", "authorization")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in _names(answer.headers["Access-Control-Allow-Headers"])
    refused = requests.get(url, timeout=5, headers={
        "Origin": ORIGIN, "Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert "www-authenticate" in _names(
        refused.headers.get("Access-Control-Expose-Headers"))


def test_the_spotify_like_issuer_answers_as_before(live_server):
    """No DPoP there: the token preflight is refused, the API grants
    Authorization only and exposes nothing (as Spotify)."""
    token = _preflight(live_server.url + "/sandbox/api/token", "POST", "dpop")
    assert token.status_code == 204
    assert not [k for k in token.headers if k.lower().startswith("access-control")]
    api = _preflight(live_server.url + "/sandbox/v1/me", "GET", "authorization, dpop")
    assert api.headers["Access-Control-Allow-Headers"] == "Authorization"
    assert "Access-Control-Expose-Headers" not in api.headers
