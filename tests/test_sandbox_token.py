"""The sandbox's token endpoint on the wire (RFC 6749 §3.2, §4.1.3, §5; checklist
items 18-27): bodies and errors as Spotify's, field by field (wire spec §3, §4B)."""

from __future__ import annotations

import base64
import re
import time

import pytest
import requests

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import make_client

# RFC 6749 §5.2 / RFC 6749 Appendix A.7: error_description's allowed characters.
DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def assert_token_headers(response: requests.Response) -> None:
    """Checklist 26: JSON, no-store, no-cache on every token response."""
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def assert_error(response, status: int, error: str, description: str) -> None:
    """Spotify's error body exactly: ``{"error", "error_description"}``."""
    assert response.status_code == status, response.text
    assert response.json() == {"error": error, "error_description": description}
    assert DESCRIPTION.fullmatch(description)
    assert_token_headers(response)


def test_authorization_code_response_matches_spotify(sandbox):
    code = sandbox.code(sandbox.web, scope="user-read-email user-read-private")
    response = sandbox.redeem(code)
    assert response.status_code == 200
    assert_token_headers(response)
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in",
                         "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user-read-email user-read-private"
    assert sandbox.api("/me", body["access_token"]).json()["email"]


def test_tokens_are_random_with_at_least_128_bits(sandbox):
    """Checklist 27: base64url from ``secrets``, 43 characters = 256 bits."""
    code = sandbox.code(sandbox.web)
    body = sandbox.redeem(code).json()
    for value in (code, body["access_token"], body["refresh_token"]):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", value)
    assert len({code, body["access_token"], body["refresh_token"]}) == 3


def test_code_reuse_is_refused_and_revokes_what_it_issued(sandbox):
    """Checklist 18: the second redemption fails and kills the first tokens."""
    code = sandbox.code(sandbox.web)
    first = sandbox.redeem(code).json()
    assert_error(sandbox.redeem(code), 400, "invalid_grant",
                 "Invalid authorization code")
    me = sandbox.api("/me", first["access_token"])
    assert me.status_code == 401
    assert me.json() == {"error": {"status": 401, "message": "Invalid access token"}}
    refresh = sandbox.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        sandbox.web_auth(),
    )
    assert_error(refresh, 400, "invalid_grant", "Refresh token revoked")


def test_replay_with_bad_credentials_revokes_nothing(sandbox):
    """Checklist 19: a wrong secret cannot revoke someone else's tokens."""
    code = sandbox.code(sandbox.web)
    first = sandbox.redeem(code).json()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    bad = sandbox.token(data, basic(sandbox.web.client_id, "wrong"))
    assert_error(bad, 400, "invalid_client", "Invalid client")
    assert sandbox.api("/me", first["access_token"]).status_code == 200


def test_replay_with_other_redirect_uri_revokes_nothing(sandbox):
    code = sandbox.code(sandbox.web)
    first = sandbox.redeem(code).json()
    other = "http://127.0.0.1:9999/run/callback"
    assert_error(sandbox.redeem(code, other), 400, "invalid_grant",
                 "Invalid redirect URI")
    assert sandbox.api("/me", first["access_token"]).status_code == 200


def test_expired_code_is_refused(serve):
    """Checklist 20: the code lifetime is configurable (default 600 s)."""
    server = serve(SANDBOX_CODE_TTL=1)
    sandbox = Sandbox(server.url, server.app.config)
    code = sandbox.code(sandbox.web)
    time.sleep(1.2)
    assert_error(sandbox.redeem(code), 400, "invalid_grant",
                 "Authorization code expired")


def test_code_is_bound_to_its_client(sandbox, live_server):
    """Checklist 21: client B cannot redeem client A's code."""
    other, secret = make_client(live_server.app)
    code = sandbox.code(sandbox.web)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = sandbox.token(data, basic(other.client_id, secret))
    assert_error(response, 400, "invalid_grant", "Invalid authorization code")
    assert sandbox.redeem(code).status_code == 200


@pytest.mark.parametrize("redirect_uri", [None, "http://127.0.0.1:8766/run/callback",
                                          CALLBACK + "/"])
def test_code_is_bound_to_its_redirect_uri(sandbox, redirect_uri):
    """Checklist 22: missing or different redirect_uri → invalid_grant."""
    code = sandbox.code(sandbox.web)
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    response = sandbox.token(data, sandbox.web_auth())
    assert_error(response, 400, "invalid_grant", "Invalid redirect URI")


@pytest.mark.parametrize("code", ["nope", "x" * 5000, "%00%ff", "' OR 1=1 --", "é"])
def test_garbage_code_is_invalid_grant_never_500(sandbox, code):
    """Checklist 23."""
    response = sandbox.redeem(code)
    assert_error(response, 400, "invalid_grant", "Invalid authorization code")


def test_missing_code(sandbox):
    data = {"grant_type": "authorization_code", "redirect_uri": CALLBACK}
    assert_error(sandbox.token(data, sandbox.web_auth()), 400, "invalid_request",
                 "code must be supplied")


def test_wrong_secret_unknown_client_and_no_credentials(sandbox):
    """Checklist 24; Spotify answers invalid_client with 400 (RFC: 401). Spotify says
    "Invalid client secret" for a wrong secret; the sandbox does not tell them apart."""
    data = {"grant_type": "client_credentials"}
    wrong = sandbox.token(data, basic(sandbox.web.client_id, "not-the-secret"))
    assert_error(wrong, 400, "invalid_client", "Invalid client")
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="sandbox"'
    unknown = sandbox.token(data, basic("no-such-client", "x"))
    assert_error(unknown, 400, "invalid_client", "Invalid client")
    code = sandbox.code(sandbox.web)
    bare = sandbox.token({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": CALLBACK, "client_id": sandbox.web.client_id})
    assert_error(bare, 400, "invalid_client", "Invalid client")


def test_secret_with_colon_and_percent_is_form_urlencoded_first(serve):
    """Checklist 24 / RFC 6749 §2.3.1: urlencode id and secret, then Base64."""
    from flowlab.sandbox import store

    server = serve()
    client, _ = make_client(server.app)
    secret = "p:ss%20w+rd:%"
    with store.DB.connection(server.app) as conn:
        store.update_client(conn, client.client_id, secret_hash=store.digest(secret))
    sandbox = Sandbox(server.url, server.app.config)
    encoded = "p%3Ass%2520w%2Brd%3A%25"
    raw = base64.b64encode(f"{client.client_id}:{encoded}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    response = sandbox.token(data, {"Authorization": f"Basic {raw}"})
    assert response.status_code == 200, response.text
    naive = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    refused = sandbox.token(data, {"Authorization": f"Basic {naive}"})
    assert refused.json()["error"] == "invalid_client"


def test_client_secret_in_body_works_but_not_with_basic_too(sandbox):
    data = {"grant_type": "client_credentials", "client_id": sandbox.web.client_id,
            "client_secret": sandbox.web.client_secret}
    assert sandbox.token(data).status_code == 200
    both = sandbox.token(data, sandbox.web_auth())
    assert_error(both, 400, "invalid_request",
                 "Use one client authentication method, not two")


def test_credentials_in_the_query_string_are_refused(sandbox):
    response = requests.post(
        sandbox.url("/api/token"), data={"grant_type": "client_credentials"},
        params={"client_id": sandbox.web.client_id,
                "client_secret": sandbox.web.client_secret},
    )
    assert_error(response, 400, "invalid_request",
                 "URL query parameters are not allowed")


def test_token_endpoint_is_post_and_form_only(sandbox):
    """Checklist 25: GET → 405; a JSON body is not read (Spotify's text)."""
    get = requests.get(sandbox.url("/api/token"), params={"grant_type": "x"})
    assert get.status_code == 405
    assert get.json()["error"] == "invalid_request"
    assert_token_headers(get)
    as_json = requests.post(sandbox.url("/api/token"),
                            json={"grant_type": "client_credentials"},
                            headers=sandbox.web_auth())
    assert_error(as_json, 400, "unsupported_grant_type",
                 "grant_type parameter is missing")


def test_password_grant_is_not_offered(sandbox):
    """Checklist 32 (RFC 9700 §2.4)."""
    data = {"grant_type": "password", "username": "alice", "password": "x"}
    assert_error(sandbox.token(data, sandbox.web_auth()), 400, "unsupported_grant_type",
                 "grant_type must be authorization_code, refresh_token or"
                 " client_credentials")


def test_client_credentials_body_and_rules(sandbox, live_server):
    """Checklist 29: no scope, no refresh_token; public clients refused."""
    response = sandbox.token({"grant_type": "client_credentials"}, sandbox.web_auth())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    artist = next(iter(live_server.app.extensions["sandbox"].catalogue.artists))
    assert sandbox.api(f"/artists/{artist}", body["access_token"]).status_code == 200
    public = sandbox.token({"grant_type": "client_credentials",
                            "client_id": sandbox.spa.client_id})
    assert_error(public, 400, "unauthorized_client",
                 "Public clients cannot use client_credentials")
    bad_scope = sandbox.token({"grant_type": "client_credentials", "scope": "admin"},
                              sandbox.web_auth())
    assert_error(bad_scope, 400, "invalid_scope", "Illegal scope")


def test_failed_client_authentication_is_rate_limited(serve):
    """Failures only, per client and address; 429 with a clear error."""
    server = serve(SANDBOX_AUTH_FAILURES_PER_MINUTE=3)
    sandbox = Sandbox(server.url, server.app.config)
    data = {"grant_type": "client_credentials"}
    for _ in range(5):
        assert sandbox.token(data, sandbox.web_auth()).status_code == 200
    for _ in range(3):
        wrong = sandbox.token(data, basic(sandbox.web.client_id, "wrong"))
        assert wrong.status_code == 400
    limited = sandbox.token(data, sandbox.web_auth())
    assert limited.status_code == 429
    assert limited.json()["error"] == "invalid_client"
    assert "Too many failed client authentications" in limited.json()[
        "error_description"]
    assert limited.headers["Retry-After"] == "60"
    assert_token_headers(limited)
    other_client = sandbox.token({"grant_type": "authorization_code", "code": "x",
                                  "redirect_uri": CALLBACK,
                                  "client_id": sandbox.spa.client_id})
    assert other_client.json()["error"] == "invalid_grant"



def test_local_failures_cannot_lock_the_runners_back_channel(serve):
    """Every local caller is 127.0.0.1: the runner's back channel has its own count."""
    from tests.flowrunner import FlowRunner

    server = serve(SANDBOX_AUTH_FAILURES_PER_MINUTE=3)
    sandbox = Sandbox(server.url, server.app.config)
    data = {"grant_type": "client_credentials"}
    for _ in range(4):  # another local process, on the public port
        sandbox.token(data, basic(sandbox.web.client_id, "wrong"))
    assert sandbox.token(data, sandbox.web_auth()).status_code == 429
    private = server.app.config["SANDBOX_BACKCHANNEL_URL"] + "/sandbox/api/token"
    assert requests.post(private, data=data, headers=sandbox.web_auth()).ok
    runner = FlowRunner(server).start("client-credentials")
    page = runner.next()
    # 429 as a status, not inside the server's port number (42911) or an id.
    assert not re.search(r"(?<![\w-])429(?![\w-])", page.text)
    assert "Too many failed" not in page.text
    assert "access_token" in page.text

def test_concurrent_redemptions_succeed_once(sandbox):
    """Single use holds under concurrency: the code is claimed atomically, at most
    one request gets tokens, and since the code was sent again they die with its
    grant (RFC 6749 §4.1.2): the winner's 200, if it came before the revocation,
    holds a token the API refuses; if after, the winner is refused too (issue 18
    item 33: the same outcome whichever request commits first)."""
    from concurrent.futures import ThreadPoolExecutor

    code = sandbox.code(sandbox.web)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: sandbox.redeem(code), range(8)))
    won = [answer for answer in answers if answer.status_code == 200]
    refused = [answer for answer in answers if answer.status_code == 400]
    assert len(won) <= 1 and len(won) + len(refused) == 8
    assert {answer.json()["error"] for answer in refused} == {"invalid_grant"}
    for answer in won:
        assert sandbox.api("/me", answer.json()["access_token"]).status_code == 401


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + base64.b64encode(
    b"no-colon").decode(), "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_malformed_basic_header_is_invalid_client_never_500(sandbox, header):
    response = sandbox.token({"grant_type": "client_credentials"},
                             {"Authorization": header})
    assert_error(response, 400, "invalid_client", "Invalid client")


def test_raw_undecodable_basic_header_is_invalid_client_never_500(sandbox):
    """Bytes that are not even ASCII after ``Basic`` (issue 10's probe)."""
    response = sandbox.token({"grant_type": "client_credentials"},
                             {"Authorization": b"Basic \xff\xfe"})
    assert_error(response, 400, "invalid_client", "Invalid client")


@pytest.mark.parametrize("grant", ["client_credentials", "refresh_token"])
def test_duplicate_client_id_is_invalid_request(sandbox, grant):
    """RFC 6749 §3.2: a parameter sent twice is refused, never "last one wins"."""
    data = [("grant_type", grant), ("client_id", sandbox.spa.client_id),
            ("client_id", sandbox.web.client_id),
            ("client_secret", sandbox.web.client_secret)]
    if grant == "refresh_token":
        data.append(("refresh_token", sandbox.user_tokens()["refresh_token"]))
    response = sandbox.token(data)
    assert_error(response, 400, "invalid_request", "Duplicate client_id parameter.")


def test_unknown_client_and_wrong_secret_look_the_same(sandbox):
    """A probe cannot learn which client ids exist (RFC 6819 §5.1.4.2.2)."""
    data = {"grant_type": "client_credentials"}
    answers = [sandbox.token(data, basic(sandbox.web.client_id, "wrong")),
               sandbox.token(data, basic("f" * 32, "wrong")),
               sandbox.token({**data, "client_id": sandbox.web.client_id}),
               sandbox.token({**data, "client_id": "f" * 32})]
    for answer in answers:
        assert_error(answer, 400, "invalid_client", "Invalid client")
    assert len({(a.status_code, a.text, a.headers.get("WWW-Authenticate"))
                for a in answers[:2]}) == 1
