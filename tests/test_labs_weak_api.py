"""The learner's weak server for the labs whose weakness is the resource server's
(issue 23): "dpop-replay" and "token-passthrough" run against the lab's own music
API, its switches those of the learner's saved configuration (the run's client
carries it, as at the weak issuer), its tokens from the lab's careful issuer (JWT
access tokens with ``aud``, DPoP-bound: RFC 9068, RFC 8707, RFC 9449). Each verdict
names the switch that opened the attack, or the one that would."""

from __future__ import annotations

import json

import jwt
import pytest
import requests

from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import database_config
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import save
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

DPOP = ("dpop-replay", "no-dpop-replay-check",
        "\u201cNo DPoP nonce or jti cache\u201d", "(RFC 9700 §4.10.1)")
PASSTHROUGH = ("token-passthrough", "no-audience-check",
               "\u201cAudience not checked\u201d", "(RFC 9700 §4.10.2)")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, backend, request):
    """One app for the module, on each backend (SQLite, PostgreSQL) in turn."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    server = LiveServer(make_app(tmp_path_factory.mktemp("weak-api"),
                                 **database_config(pg)))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def replay(attacker_page: str) -> None:
    """The attacker presses its page's one button."""
    thief = requests.Session()
    page = thief.get(attacker_page)
    if "csrf_token" in page.text:
        thief.post(attacker_page, data={"csrf_token": form_token(page)})


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def play(victim: requests.Session, server, lab: str):
    """Sign in as Alice in a run against the learner's server, and replay."""
    attacker_page = start(victim, server, lab, "yours")
    run = run_of(server, attacker_page)
    sign_in(victim, server, lab, "yours", "alice")
    replay(attacker_page)
    return run


def said(victim: requests.Session, server, lab: str, on: bool, label: str,
         section: str) -> None:
    """The verdict, and the switch it names."""
    assert verdict(victim, server, lab, "yours") == ("succeeded" if on else "failed")
    page = victim.get(server(f"/labs/{lab}/yours")).text
    if on:
        assert f"your server has {label} on {section}" in page
    else:
        assert f"Switch {label} {section} on in your server" in page


@pytest.mark.parametrize("on", [True, False])
def test_dpop_replay_against_your_server(lab_server, on):
    lab, switch, label, section = DPOP
    victim = requests.Session()
    save(victim, lab_server, *([switch] if on else []))
    run = play(victim, lab_server, lab)
    configuration = run.client["weak_server"]
    tokens = run.entries("token")
    assert [status(e) for e in tokens] == [400, 200]  # the issuer's nonce first
    assert "/sandbox/best-practice/api/token" in tokens[-1].exchange.url
    token = json.loads(tokens[-1].exchange.response.body)
    assert token["token_type"] == "DPoP"
    found = claims(token["access_token"])
    assert "jkt" in found["cnf"]
    assert found["client_id"].startswith(f"weak-{configuration}-")
    assert found["aud"] == run.backchannel + f"/labs/{lab}/yours/api/v1"
    call = run.entries("me")[-1]
    assert status(call) == 200
    assert call.exchange.url == run.backchannel + f"/labs/{lab}/yours/api/v1/me"
    again = run.entries("replay")[0]
    assert again.exchange.request.header("DPoP") == call.exchange.request.header("DPoP")
    if on:
        assert status(again) == 200
        assert json.loads(again.exchange.response.body)["id"] == "alice"
    else:
        assert status(again) == 401
        assert "used before" in again.exchange.response.header("WWW-Authenticate")
    said(victim, lab_server, lab, on, label, section)


@pytest.mark.parametrize("on", [True, False])
def test_token_passthrough_against_your_server(lab_server, http, on):
    lab, switch, label, section = PASSTHROUGH
    victim = requests.Session()
    save(victim, lab_server, *([switch] if on else []))
    run = play(victim, lab_server, lab)
    token = run.attacker["token"]
    assert claims(token)["aud"].endswith("/lyrics")
    assert claims(token)["client_id"].startswith(
        f"weak-{run.client['weak_server']}-")
    again = run.entries("replay")[0]
    assert again.exchange.request.header("Authorization") == f"Bearer {token}"
    assert again.exchange.url == run.backchannel + f"/labs/{lab}/yours/api/v1/me"
    if on:
        assert status(again) == 200
        assert json.loads(again.exchange.response.body)["id"] == "alice"
        # The sandbox's own API still checks the audience, whatever the switch.
        sandbox = http.get(run.backchannel + "/sandbox/best-practice/v1/me",
                           headers={"Authorization": f"Bearer {token}"})
        assert sandbox.status_code == 401
        assert "another audience" in sandbox.headers["WWW-Authenticate"]
    else:
        assert status(again) == 401
        challenge = again.exchange.response.header("WWW-Authenticate")
        assert 'error="invalid_token"' in challenge and "another audience" in challenge
    said(victim, lab_server, lab, on, label, section)


def test_another_learner_with_the_switches_off_is_unaffected(lab_server, http):
    """Two learners at once, one with both switches on: each run is judged by its
    own learner's switches. A token of no saved configuration (the lab's defended
    client's) gets every check at the API."""
    weak, careful = requests.Session(), requests.Session()
    save(weak, lab_server, DPOP[1], PASSTHROUGH[1])
    save(careful, lab_server)
    for lab, _, label, section in (DPOP, PASSTHROUGH):
        pages = {learner: start(learner, lab_server, lab, "yours")
                 for learner in (weak, careful)}
        for learner in (weak, careful):
            sign_in(learner, lab_server, lab, "yours", "alice")
        for learner in (careful, weak):
            replay(pages[learner])
        runs = {learner: run_of(lab_server, page) for learner, page in pages.items()}
        assert status(runs[weak].entries("replay")[0]) == 200
        assert status(runs[careful].entries("replay")[0]) == 401
        said(weak, lab_server, lab, True, label, section)
        said(careful, lab_server, lab, False, label, section)
    stranger = requests.Session()
    run = run_of(lab_server, start(stranger, lab_server, PASSTHROUGH[0], "defended"))
    sign_in(stranger, lab_server, PASSTHROUGH[0], "defended", "alice")
    answer = http.get(run.backchannel + f"/labs/{PASSTHROUGH[0]}/yours/api/v1/me",
                      headers={"Authorization": f"Bearer {run.attacker['token']}"})
    assert answer.status_code == 401
    assert "another audience" in answer.headers["WWW-Authenticate"]


def test_not_decided_before_the_replay_and_a_later_save_changes_no_run(lab_server):
    """Before the attacker replays, nothing is decided and no switch named; a
    save made after the run started leaves the run's switches as they were."""
    lab, switch, label, section = PASSTHROUGH
    victim = requests.Session()
    save(victim, lab_server, switch)
    attacker_page = start(victim, lab_server, lab, "yours")
    sign_in(victim, lab_server, lab, "yours", "alice", "cancel")
    replay(attacker_page)
    assert verdict(victim, lab_server, lab, "yours") == "undecided"
    assert 'id="deciding"' not in victim.get(lab_server(f"/labs/{lab}/yours")).text
    save(victim, lab_server)
    sign_in(victim, lab_server, lab, "yours", "alice")
    replay(attacker_page)
    said(victim, lab_server, lab, True, label, section)
