"""Attack labs over HTTP: each attack succeeds against the lab's weak configuration
and fails against the defence, judged on the captured messages; the sandbox's own
behaviour is unchanged by the labs."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.core.demo import demo_apps
from flowlab.labs.catalogue import load
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import list_clients
from flowlab.web.session import services
from tests.conftest import ROOT
from tests.flowrunner import FlowRunner
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status


def keys(run) -> list[str]:
    return [entry.key for entry in run.trace]


def test_every_lab_has_both_variants_and_its_module():
    labs = load(ROOT / "content" / "labs")
    assert {"csrf-state", "code-interception", "code-replay"} <= set(labs)
    for lab in labs.values():
        assert lab.variants["vulnerable"].label and lab.variants["defended"].label
        assert lab.outcome["succeeded"] and lab.outcome["failed"]
        assert lab.outcome["undecided"].startswith("Not decided yet")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_csrf_state(lab_server, variant):
    victim = requests.Session()
    bait_page = start(victim, lab_server, "csrf-state", variant)
    run = run_of(lab_server, bait_page)
    # The attacker's own trip: the sandbox's answer carries a code for Bob, unfollowed.
    consent = run.entries("attacker-consent")[0].exchange.response
    assert "code=" in consent.header("Location")
    # Its sandbox session is in no message kept: not as it was set, not as it was sent.
    cookies = [value for entry in run.trace for message in (
        entry.exchange.request, entry.exchange.response) if message
        for name, value in message.headers if name.lower() in ("cookie", "set-cookie")]
    assert cookies and all(value.startswith("(") for value in cookies)
    bait = requests.get(bait_page)
    assert 'id="bait"' in bait.text and "127.0.0.2" in bait.url
    link = bait.text.split('id="bait" href="', 1)[1].split('"', 1)[0]
    page = victim.get(link.replace("&amp;", "&"))
    callback = run.entries("callback")[0].exchange.request
    assert callback.start_line.startswith("GET /labs/csrf-state/")
    assert "code=" in callback.start_line
    if variant == "vulnerable":
        assert status(run.entries("token")[0]) == 200
        me = json.loads(run.entries("me")[0].exchange.response.body)
        assert me["id"] == "bob"
        assert "Attack succeeded" in page.text and "Bob Okafor" in page.text
    else:
        assert "token" not in keys(run) and "me" not in keys(run)
        assert "Attack failed" in page.text


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_replay(lab_server, variant):
    victim = requests.Session()
    loot_page = start(victim, lab_server, "code-replay", variant)
    signed_in = sign_in(victim, lab_server, "code-replay", variant, "alice")
    assert "Alice Lindqvist" in signed_in.text
    run = run_of(lab_server, loot_page)
    token = run.entries("token")[0]
    assert status(token) == 200
    path = "/sandbox/lab-code-replay/" if variant == "vulnerable" else "/sandbox/api/"
    assert path in token.exchange.request.start_line
    thief = requests.Session()
    loot = thief.get(loot_page)
    assert "grant_type=authorization_code" in loot.text
    thief.post(loot_page, data={"csrf_token": form_token(loot)})
    replay = run.entries("replay")[0].exchange
    assert replay.request.body == token.exchange.request.body
    page = victim.post(lab_server(f"/labs/code-replay/{variant}/recheck"),
                       data={"csrf_token": form_token(signed_in)})
    recheck = run.entries("recheck")[0]
    if variant == "vulnerable":
        assert status(run.entries("replay")[0]) == 200
        assert json.loads(replay.response.body)["access_token"]
        assert status(recheck) == 200
        assert "Attack succeeded" in page.text
    else:
        assert status(run.entries("replay")[0]) == 400
        assert json.loads(replay.response.body)["error"] == "invalid_grant"
        assert status(recheck) == 401
        assert "Attack failed" in page.text


def test_lab_issuer_serves_only_its_own_clients(lab_server, http):
    web, _ = demo_apps(lab_server.app.config)
    answer = http.post(lab_server("/sandbox/lab-code-replay/api/token"),
                       auth=(web.client_id, web.client_secret),
                       data={"grant_type": "client_credentials"})
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


def test_sandbox_unchanged_by_the_labs(lab_server, http):
    """Its metadata names no lab path, dashboards list no lab client, and a
    replayed code at its own token endpoint is still refused."""
    meta = http.get(lab_server("/sandbox/.well-known/oauth-authorization-server"))
    assert "lab-" not in meta.text
    with DB.connection(lab_server.app) as conn:
        listed = list_clients(conn, "some-dashboard-session")
    assert not [c for c in listed if c.name.startswith("Lab:")]
    assert all(c.owner is None for c in listed)
    # The lab issuer accepts a replay; the sandbox's token endpoint, sent the very
    # same request afterwards, still refuses the used code.
    victim = requests.Session()
    run = run_of(lab_server, start(victim, lab_server, "code-replay", "vulnerable"))
    sign_in(victim, lab_server, "code-replay", "vulnerable", "bob")
    logged = run.entries("token")[0].exchange.request
    again = http.post(lab_server("/sandbox/api/token"), data=logged.body,
                      headers={"Authorization": logged.header("Authorization"),
                               "Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_sandbox_unchanged_by_a_weak_server(lab_server, http):
    """A learner's weak server with every switch on changes no sandbox issuer:
    their metadata name no weak path, and the very request the weak issuer took
    twice is refused at the sandbox's token endpoint."""
    learner = requests.Session()
    builder = learner.get(lab_server("/weak-server"))
    switches = re.findall(r'name="switch" value="([a-z-]+)"', builder.text)
    learner.post(lab_server("/weak-server"), data={
        "csrf_token": form_token(builder), "switch": switches})
    for path in ("/sandbox", "/sandbox/best-practice", "/sandbox/fapi2"):
        meta = http.get(lab_server(f"/.well-known/oauth-authorization-server{path}"))
        assert meta.status_code == 200 and "lab-weak" not in meta.text
    run = run_of(lab_server, start(learner, lab_server, "code-replay", "yours"))
    sign_in(learner, lab_server, "code-replay", "yours", "bob")
    logged = run.entries("token")[0].exchange.request
    assert "/sandbox/lab-weak/api/token" in logged.start_line
    headers = {"Authorization": logged.header("Authorization"),
               "Content-Type": "application/x-www-form-urlencoded"}
    again = http.post(lab_server("/sandbox/lab-weak/api/token"), data=logged.body,
                      headers=headers)
    assert again.status_code == 200  # reusable on the learner's weak server ...
    for path in ("/sandbox", "/sandbox/best-practice"):
        refused = http.post(lab_server(f"{path}/api/token"), data=logged.body,
                            headers=headers)
        assert refused.status_code in (400, 401), path  # ... and nowhere else


def test_runs_belong_to_their_browser(lab_server):
    victim = requests.Session()
    start(victim, lab_server, "csrf-state", "vulnerable")
    stranger = requests.Session()
    page = stranger.get(lab_server("/labs/csrf-state/vulnerable"))
    assert "127.0.0.2" not in page.text and "On the wire" not in page.text
    assert stranger.get(lab_server("/labs/csrf-state/vulnerable/callback?code=x")
                        ).status_code == 400
    assert stranger.get(lab_server("/labs/no-such-lab")).status_code == 404


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_interception(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "code-interception", variant)
    landed = sign_in(victim, lab_server, "code-interception", variant, "alice")
    assert landed.url.startswith("http://127.0.0.2:")  # the other app got it
    run = run_of(lab_server, attacker_page)
    authorize = run.entries("authorize")[0].exchange.response.header("Location")
    assert ("code_challenge=" in authorize) == (variant == "defended")
    assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
    stolen = run.entries("attacker-token")[0]
    assert "code_verifier" not in stolen.exchange.request.text
    page = victim.get(lab_server(f"/labs/code-interception/{variant}"))
    if variant == "vulnerable":
        assert status(stolen) == 200, stolen.exchange.response.body
        me = json.loads(run.entries("attacker-me")[0].exchange.response.body)
        assert me["id"] == "alice"
        assert "Attack succeeded" in page.text
    else:
        assert status(stolen) == 400
        assert json.loads(stolen.exchange.response.body)["error"] == "invalid_request"
        assert run.entries("attacker-me") == []
        assert "Attack failed" in page.text


def test_lab_speaker_notes_are_for_the_presenter_only(lab_server):
    """Every step of every lab has speaker notes; the presenter view shows those of
    this browser's latest lab run, the lab page the room sees shows none, and the
    presenter view goes back to a flow run started later."""
    labs = services(lab_server.app).labs.catalogue
    browser = requests.Session()
    for lab in labs.values():
        assert all(step.get("notes") for step in lab.steps), lab.id
        attacker_page = start(browser, lab_server, lab.id, "vulnerable")
        room = browser.get(lab_server(f"/labs/{lab.id}/vulnerable")).text
        presenter = browser.get(lab_server("/presenter")).text
        run_id = attacker_page.rsplit("/", 1)[1]
        assert f'data-run="lab:{run_id}"' in presenter, lab.id
        assert html.escape(lab.title) in presenter
        assert 'data-verdict="undecided"' in presenter
        for step in lab.steps:
            words = " ".join(step["notes"].split()[:6])
            assert words not in room, (lab.id, words)
            assert words.replace("`", "") in " ".join(
                re.sub(r"<[^>]+>", "", html.unescape(presenter)).split()), lab.id
        now = browser.get(lab_server("/presenter/now.json")).json()
        assert now["run"] == f"lab:{run_id}" and now["done"] == len(
            run_of(lab_server, attacker_page).trace)
    flow = FlowRunner(lab_server)
    flow.session = browser
    flow.start("client-credentials")
    presenter = browser.get(lab_server("/presenter")).text
    assert "Speaker notes" in presenter and "lab:" not in presenter
    assert not browser.get(lab_server("/presenter/now.json")).json()["run"] \
        .startswith("lab:")
