"""Attack labs on modern OAuth over HTTP: token passthrough (RFC 8707, RFC 9700
§4.9.1 and §4.10) and DPoP proof replay (RFC 9449 §11.1). Each attack succeeds
against the weak configuration and fails against the defence, judged on the captured
messages; the sandbox's own API is unchanged by the labs' weak API."""

from __future__ import annotations

import html
import json
import re

import jwt
import pytest
import requests

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.labs import dpop_replay
from flowlab.labs import id_token_validation
from flowlab.labs import token_passthrough
from flowlab.labs import wire
from flowlab.labs.store import Run
from flowlab.serving import stop
from flowlab.web import attacker
from tests import test_labs_processes as processes
from tests.conftest import LiveServer
from tests.conftest import database_config
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

# `app.py --workers 2` and its environment, as the labs' processes test starts them.
labs_env, two_workers = processes.labs_env, processes.two_workers
CHOICE = re.compile(r'name="choice" value="([^"]+)"')


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, backend, request):
    """One app for the module, on each backend (SQLite, PostgreSQL) in turn."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs"),
                                 **database_config(pg)))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def act(attacker_page: str, choice: str | None = None,
        times: int = 1) -> requests.Response | None:
    """Press the attacker page's button (the one named ``choice``), ``times`` times
    from the same page (a double click); None where the page has no form."""
    browser = requests.Session()
    page = browser.get(attacker_page)
    if "csrf_token" not in page.text:
        return None
    data = {"csrf_token": form_token(page)}
    if choice:
        data["choice"] = choice
    for _ in range(times):
        answer = browser.post(attacker_page, data=data)
    return answer


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def challenge(entry) -> str:
    return entry.exchange.response.header("WWW-Authenticate") or ""


# -- token passthrough ------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_token_passthrough(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "token-passthrough", variant)
    run = run_of(lab_server, attacker_page)
    assert verdict(victim, lab_server, "token-passthrough", variant) == "undecided"
    assert "name=\"choice\"" not in requests.get(attacker_page).text  # nothing yet
    sign_in(victim, lab_server, "token-passthrough", variant, "alice")
    authorize = run.entries("authorize")[0].exchange.response.header("Location")
    assert "/sandbox/best-practice/authorize?" in authorize
    assert "resource=http%3A%2F%2F127.0.0.2" in authorize
    token = json.loads(run.entries("token")[0].exchange.response.body)["access_token"]
    aud = claims(token)["aud"]
    assert aud.startswith("http://127.0.0.2:") and aud.endswith("/lyrics")
    handed = run.entries("lyrics")[0].exchange
    assert handed.url == aud and handed.request.header("Authorization") == (
        f"Bearer {token}")
    assert run.attacker["token"] == token  # the malicious resource kept it
    act(attacker_page)
    replay = run.entries("replay")[0]
    assert replay.exchange.request.header("Authorization") == f"Bearer {token}"
    if variant == "vulnerable":
        assert "/labs/token-passthrough/vulnerable/api/v1/me" in replay.exchange.url
        assert status(replay) == 200
        assert json.loads(replay.exchange.response.body)["id"] == "alice"
    else:
        assert "/sandbox/best-practice/v1/me" in replay.exchange.url
        assert status(replay) == 401
        assert 'error="invalid_token"' in challenge(replay)
        assert "another audience" in challenge(replay)
    expected = {"vulnerable": "succeeded", "defended": "failed"}[variant]
    assert verdict(victim, lab_server, "token-passthrough", variant) == expected


def test_token_passthrough_replaying_twice_or_cancelling_decides_right(lab_server):
    """A cancelled sign-in leaves nothing to replay (not decided); the attacker's
    button pressed twice (with a choice it never offered) sends one replay."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "token-passthrough", "defended")
    run = run_of(lab_server, attacker_page)
    # Bob, who has not agreed to this client before, is asked, and cancels.
    sign_in(victim, lab_server, "token-passthrough", "defended", "bob", "cancel")
    assert "error=access_denied" in run.entries("callback")[0].exchange.request \
        .start_line
    act(attacker_page)
    assert run.entries("replay") == []
    assert verdict(victim, lab_server, "token-passthrough", "defended") == "undecided"
    sign_in(victim, lab_server, "token-passthrough", "defended", "bob")
    act(attacker_page, "stray", times=2)  # a choice this page never offered
    assert len(run.entries("replay")) == 1
    assert verdict(victim, lab_server, "token-passthrough", "defended") == "failed"


def test_the_sandbox_api_still_checks_the_audience(lab_server, http):
    """The lab's weak API is the lab's alone: the best-practice API refuses the
    token minted for the attacker's resource, and the weak API is served only for
    a lab variant that says so."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "token-passthrough", "vulnerable")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "token-passthrough", "vulnerable", "alice")
    token = run.attacker["token"]
    answer = http.get(lab_server("/sandbox/best-practice/v1/me"),
                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "another audience" in answer.headers["WWW-Authenticate"]
    for path in ("/labs/token-passthrough/defended/api/v1/me",
                 "/labs/csrf-state/vulnerable/api/v1/me"):
        assert http.get(lab_server(path), headers={
            "Authorization": f"Bearer {token}"}).status_code == 404
    # Without a token, the weak API challenges as RFC 6750 §3 says.
    bare = http.get(lab_server("/labs/token-passthrough/vulnerable/api/v1/me"))
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"] == "Bearer"


# -- DPoP proof replay ------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_dpop_replay(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "dpop-replay", variant)
    run = run_of(lab_server, attacker_page)
    assert "Replay" not in requests.get(attacker_page).text
    sign_in(victim, lab_server, "dpop-replay", variant, "alice")
    tokens = run.entries("token")
    assert [status(e) for e in tokens] == [400, 200]  # the nonce challenge first
    assert json.loads(tokens[0].exchange.response.body)["error"] == "use_dpop_nonce"
    answer = json.loads(tokens[1].exchange.response.body)
    assert answer["token_type"] == "DPoP"
    assert "jkt" in claims(answer["access_token"])["cnf"]
    calls = run.entries("me")
    assert status(calls[-1]) == 200
    if variant == "defended":  # the API asks for its nonce before it answers
        assert [status(e) for e in calls] == [401, 200]
        assert 'error="use_dpop_nonce"' in challenge(calls[0])
    else:
        assert [status(e) for e in calls] == [200]
    captured = calls[-1].exchange.request
    assert run.client["linked"] in ("alice", "Alice Lindqvist")
    assert captured.header("Authorization") == "DPoP " + answer["access_token"]
    assert verdict(victim, lab_server, "dpop-replay", variant) == "undecided"
    act(attacker_page)
    replay = run.entries("replay")[0]
    sent = replay.exchange.request
    assert sent.header("DPoP") == captured.header("DPoP")
    assert sent.header("Authorization") == captured.header("Authorization")
    assert replay.exchange.url == calls[-1].exchange.url
    if variant == "vulnerable":
        assert "/labs/dpop-replay/vulnerable/api/v1/me" in replay.exchange.url
        assert status(replay) == 200
        assert json.loads(replay.exchange.response.body)["id"] == "alice"
    else:
        assert "/sandbox/best-practice/v1/me" in replay.exchange.url
        assert status(replay) == 401
        assert challenge(replay).startswith('DPoP error="invalid_dpop_proof"')
        assert "used before" in challenge(replay)
    expected = {"vulnerable": "succeeded", "defended": "failed"}[variant]
    assert verdict(victim, lab_server, "dpop-replay", variant) == expected


def test_dpop_replay_unexpected_paths(lab_server, http):
    """Before any call, or after a cancelled sign-in, nothing is replayed and
    nothing decided; the button pressed twice sends one replay."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "dpop-replay", "defended")
    run = run_of(lab_server, attacker_page)
    act(attacker_page)
    assert run.entries("replay") == []
    sign_in(victim, lab_server, "dpop-replay", "defended", "bob", "cancel")
    assert "error=access_denied" in run.entries("callback")[0].exchange.request \
        .start_line
    act(attacker_page)
    assert run.entries("replay") == []
    assert verdict(victim, lab_server, "dpop-replay", "defended") == "undecided"
    sign_in(victim, lab_server, "dpop-replay", "defended", "bob")
    act(attacker_page, times=2)  # pressed twice: one replay
    assert len(run.entries("replay")) == 1
    assert verdict(victim, lab_server, "dpop-replay", "defended") == "failed"


def test_the_lab_api_checks_dpop_proofs_but_keeps_no_jti(lab_server, http):
    """The weak API still checks the proof (its key, ath, htu); it only lacks the
    jti cache and the nonce. The sandbox's API refuses a replay as it did."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "dpop-replay", "vulnerable")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "dpop-replay", "vulnerable", "alice")
    captured = run.entries("me")[-1].exchange
    headers = {"Authorization": captured.request.header("Authorization"),
               "DPoP": captured.request.header("DPoP")}
    url = captured.url
    assert http.get(url, headers=headers).status_code == 200
    assert http.get(url, headers=headers).status_code == 200  # no jti cache
    bearer = http.get(url, headers={"Authorization": "Bearer " + headers[
        "Authorization"].split(" ", 1)[1]})
    assert bearer.status_code == 401
    elsewhere = http.get(url.replace("/v1/me", "/v1/me/playlists"), headers=headers)
    assert elsewhere.status_code in (401, 404)
    if elsewhere.status_code == 401:
        assert 'error="invalid_dpop_proof"' in elsewhere.headers["WWW-Authenticate"]
    sandbox = http.get(lab_server("/sandbox/best-practice/v1/me"), headers=headers)
    assert sandbox.status_code == 401
    assert html.unescape(sandbox.headers["WWW-Authenticate"]).startswith("DPoP error=")


# -- ID token validation ----------------------------------------------------

FORGERIES = {"none": "signature", "hs256": "signature", "aud": "aud",
             "nonce": "nonce"}


def choices(attacker_page: str) -> list[str]:
    return CHOICE.findall(requests.get(attacker_page).text)


@pytest.mark.parametrize("kind", list(FORGERIES))
@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_id_token_validation(lab_server, variant, kind):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "id-token-validation", variant)
    run = run_of(lab_server, attacker_page)
    assert choices(attacker_page) == ["none", "hs256", "aud"]  # no old token yet
    sign_in(victim, lab_server, "id-token-validation", variant, "alice")
    # Alice's own sign-in: a nonce from JamJar's server, in the authorization
    # request, in the id_token, and JamJar's server signs her in with it.
    nonce = json.loads(run.entries("start")[0].exchange.response.body)["nonce"]
    authorize = run.entries("authorize")[0].exchange.response.header("Location")
    assert "/sandbox/best-practice/authorize?" in authorize
    assert f"nonce={nonce}" in authorize and "scope=openid" in authorize
    id_token = json.loads(run.entries("token")[0].exchange.response.body)["id_token"]
    assert claims(id_token)["nonce"] == nonce
    own = run.entries("signin")[0]
    assert status(own) == 200
    assert json.loads(own.exchange.response.body)["signed_in"] == "alice"
    assert run.client["linked"] == "alice"  # the run page's linked account
    assert verdict(victim, lab_server, "id-token-validation", variant) == "undecided"
    assert choices(attacker_page) == ["none", "hs256", "aud", "nonce"]
    act(attacker_page, kind)
    tried = run.entries(f"attacker-{kind}")[0]
    fresh = json.loads(run.entries("attacker-start")[-1].exchange.response.body)
    presented = wire.form(tried)["id_token"]
    header = jwt.get_unverified_header(presented)
    client_id = claims(id_token)["aud"]
    if kind == "none":
        assert header["alg"] == "none" and presented.endswith(".")
    elif kind == "hs256":
        assert header["alg"] == "HS256"
        keys = run.entries("attacker-jwks")[0].exchange.response.body
        assert header["kid"] in {k["kid"] for k in json.loads(keys)["keys"]
                                 if k["kty"] == "RSA"}
    elif kind == "aud":
        assert header["alg"] == "RS256"  # genuine, from the sandbox
        assert claims(presented)["aud"] != client_id
        assert "QuizTune" in run.entries("attacker-register")[0].exchange.request.text
    else:
        assert presented == id_token  # Alice's, from her earlier sign-in
    if kind != "nonce":
        assert claims(presented)["nonce"] == fresh["nonce"]
        assert claims(presented)["sub"] == "alice"
    answer = json.loads(tried.exchange.response.body)
    if variant == "vulnerable":
        assert status(tried) == 200 and answer["signed_in"] == "alice"
        expected = "succeeded"
    else:
        assert status(tried) == 401 and answer["error"] == "invalid_token"
        assert answer["check"] == FORGERIES[kind]
        expected = "failed"
    assert verdict(victim, lab_server, "id-token-validation", variant) == expected
    page = html.unescape(victim.get(lab_server(
        f"/labs/id-token-validation/{variant}")).text)
    assert f'data-detail="{kind}"' in page  # the verdict names the check


def test_id_token_validation_unexpected_paths(lab_server):
    """The old-token replay before any sign-in sends nothing; a replayed token of
    Bob's (the learner signed in as Bob) signs the attacker in as Bob, not Alice,
    and decides nothing; the button pressed twice tries once."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "id-token-validation", "vulnerable")
    run = run_of(lab_server, attacker_page)
    browser = requests.Session()
    page = browser.get(attacker_page)
    browser.post(attacker_page, data={"csrf_token": form_token(page),
                                      "choice": "nonce"})
    assert run.entries("attacker-nonce") == [] and run.entries("attacker-start") == []
    sign_in(victim, lab_server, "id-token-validation", "vulnerable", "bob")
    act(attacker_page, "nonce", times=2)
    tried = run.entries("attacker-nonce")
    assert len(tried) == 1
    assert json.loads(tried[0].exchange.response.body)["signed_in"] == "bob"
    assert verdict(victim, lab_server, "id-token-validation", "vulnerable") == \
        "undecided"


def test_jamjar_server_refuses_a_spent_or_unknown_sign_in(lab_server, http):
    """JamJar's sign-in API: a session is used once, an unknown one is refused
    (the defended and the weak client alike), and it answers only POST."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "id-token-validation", "vulnerable")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "id-token-validation", "vulnerable", "alice")
    signin = run.entries("signin")[0].exchange
    again = http.post(signin.url, data=signin.request.text, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 401 and again.json()["check"] == "session"
    assert http.get(signin.url).status_code == 405
    other = signin.url.replace(run.id, "x" * len(run.id))
    assert http.post(other, data={"session": "x"}).status_code == 404


# -- verdicts on captured messages that decide nothing ----------------------


def _message(start: str, headers=(), body: str = ""):
    return Message(start, list(headers), body.encode())


def _run_with(*entries) -> Run:
    """A run whose trace holds ``entries``: (key, request headers, request body,
    status, response headers, response body)."""
    run = Run(id="r", lab="x", variant="defended", browser="b", origin="o",
              backchannel="o")
    for key, sent, form, code, got, body in entries:
        run.record(key, "attacker", "back", Exchange(
            _message("GET /v1/me HTTP/1.1", sent, form),
            _message(f"HTTP/1.1 {code} X", got, body), url="http://o/v1/me"))
    return run


def test_refusals_the_defences_did_not_cause_decide_nothing():
    bearer = [("Authorization", "Bearer t")]
    expired = [("WWW-Authenticate", 'Bearer error="invalid_token", '
                'error_description="The access token expired"')]
    audience = [("WWW-Authenticate", 'Bearer error="invalid_token", '
                 'error_description="The access token is for another audience"')]
    handed = ("lyrics", bearer, "", 200, [], "{}")
    assert token_passthrough.succeeded(_run_with(
        handed, ("replay", bearer, "", 401, expired, "{}"))) is None
    assert token_passthrough.succeeded(_run_with(  # a token never handed over
        ("replay", bearer, "", 200, [], "{}"))) is None
    assert token_passthrough.succeeded(_run_with(
        handed, ("replay", bearer, "", 401, audience, "{}"))) is False
    proof = [("Authorization", "DPoP t"), ("DPoP", "p")]
    used = ("me", proof, "", 200, [], "{}")

    def dpop(description: str, error: str = "invalid_dpop_proof"):
        return [("WWW-Authenticate",
                 f'DPoP error="{error}", error_description="{description}"')]

    old = dpop("The DPoP proof's iat is too far from now")
    assert dpop_replay.succeeded(_run_with(
        used, ("replay", proof, "", 401, old, "{}"))) is None
    assert dpop_replay.succeeded(_run_with(  # a proof the API never accepted
        ("me", proof, "", 401, old, "{}"),
        ("replay", proof, "", 200, [], "{}"))) is None
    assert dpop_replay.succeeded(_run_with(
        used, ("replay", proof, "", 401, dpop("used before (its jti)"), "{}"))) \
        is False
    assert dpop_replay.succeeded(_run_with(
        used, ("replay", proof, "", 401, dpop("nonce", "use_dpop_nonce"), "{}"))) \
        is False

    def presented(kind: str, code: int, body: dict):
        return (f"attacker-{kind}", [], "id_token=x", code, [], json.dumps(body))

    for entry in (presented("aud", 401, {"check": "nonce"}),  # another check
                  presented("none", 401, {"check": "session"}),
                  presented("nonce", 200, {"signed_in": "bob"})):
        assert id_token_validation.succeeded(_run_with(entry)) is None
        assert id_token_validation.detail(_run_with(entry)) is None
    refused = _run_with(presented("aud", 401, {"check": "aud"}))
    assert id_token_validation.succeeded(refused) is False
    assert id_token_validation.detail(refused) == "aud"


def test_the_modern_labs_across_two_workers(two_workers):
    """`app.py --workers 2`, its private back channel and its attacker: each lab
    played whichever worker takes each request, the lab API and JamJar's server
    included."""
    server, _ = two_workers
    for lab, choice in (("token-passthrough", None), ("dpop-replay", None),
                        ("id-token-validation", "aud")):
        for variant in ("vulnerable", "defended"):
            victim = processes.Browser()
            attacker_page = start(victim, server, lab, variant)
            sign_in(victim, server, lab, variant, "alice")
            thief = processes.Browser()
            page = thief.get(attacker_page)
            data = {"csrf_token": form_token(page), **({"choice": choice} if choice
                                                       else {})}
            thief.post(attacker_page, data=data)
            expected = "succeeded" if variant == "vulnerable" else "failed"
            assert verdict(victim, server, lab, variant) == expected, (lab, variant)
