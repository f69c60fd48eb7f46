"""The weak server a learner builds (issue 23): switches saved per browser, served
by one lab-only issuer whose clients carry their configuration, and the labs run
against it, each verdict naming the switch that decided it."""

from __future__ import annotations

import html
import re
import tomllib
from urllib.parse import parse_qsl
from urllib.parse import urljoin

import pytest
import requests

from flowlab.labs.catalogue import load
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import get_client
from flowlab.serving import stop
from flowlab.web import decoy
from tests.conftest import ROOT
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import save
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict
from tests.test_room_scoreboard import item
from tests.test_room_scoreboard import room

BUILDER = "/weak-server"
KEYS = {"redirect_match": "prefix", "pkce_plain": True, "pkce_optional": True,
        "single_use_codes": False, "refresh_rotation": False, "iss_parameter": False,
        "framable_consent": True, "dpop_replay_check": False, "audience_check": False}
# Labs other helpers are writing for issue 23: a switch may open one before it is
# merged. The lead empties this list once they are all in.
PENDING: set[str] = set()  # every lab a switch opens is merged
CLICKJACKING = "consent-clickjacking"
IN_A_FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site"}
CHECKED = re.compile(r'<input[^>]*name="switch"[^>]*value="([a-z-]+)"[^>]*checked')


def switches() -> list[dict]:
    data = tomllib.loads((ROOT / "content" / "weak-server.toml").read_text("utf-8"))
    return data["switch"]


def test_every_switch_names_its_section_its_override_and_the_labs_it_opens():
    labs = load(ROOT / "content" / "labs")
    found = switches()
    assert {key for s in found for key in s["server"]} == set(KEYS)
    for switch in found:
        assert re.fullmatch(r"[a-z0-9-]+", switch["id"])
        assert switch["label"] and switch["weakens"].endswith(".")
        assert re.fullmatch(r"RFC 9700 §4(\.\d+)+", switch["section"])
        assert switch["server"] == {k: KEYS[k] for k in switch["server"]}
        assert switch["opens"], switch["id"]
        for lab in switch["opens"]:
            assert lab in labs or lab in PENDING, (switch["id"], lab)


def test_the_builder_answers_without_a_session_and_saves_per_browser(lab_server):
    stranger = requests.Session()
    page = stranger.get(lab_server(BUILDER))
    assert page.status_code == 200 and not CHECKED.findall(page.text)
    for switch in switches():
        assert html.escape(switch["label"], quote=False) in page.text
        assert switch["section"] in page.text
    learner = requests.Session()
    saved = save(learner, lab_server, "reusable-codes", "no-refresh-rotation")
    assert saved.history and saved.history[0].status_code == 303  # PRG
    assert set(CHECKED.findall(saved.text)) == {"reusable-codes",
                                                "no-refresh-rotation"}
    # Another browser in the room sees none of it, and has no "your server" run.
    assert not CHECKED.findall(stranger.get(lab_server(BUILDER)).text)
    assert "Run against your server" not in stranger.get(
        lab_server("/labs/code-replay")).text
    assert "Run against your server" in learner.get(
        lab_server("/labs/code-replay")).text
    # No token, no save.
    refused = requests.Session().post(lab_server(BUILDER),
                                      data={"switch": "pkce-plain"})
    assert refused.status_code == 400


def test_a_switch_off_is_saved_off(lab_server):
    learner = requests.Session()
    save(learner, lab_server, "reusable-codes")
    page = save(learner, lab_server)
    assert not CHECKED.findall(page.text)


def replay(victim: requests.Session, server, variant: str = "yours"):
    """Code replay as in its lab: sign in as Alice, the attacker replays the log."""
    loot_page = start(victim, server, "code-replay", variant)
    sign_in(victim, server, "code-replay", variant, "alice")
    thief = requests.Session()
    loot = thief.get(loot_page)
    thief.post(loot_page, data={"csrf_token": form_token(loot)})
    return run_of(server, loot_page)


@pytest.mark.parametrize("on", [True, False])
def test_code_replay_against_your_server(lab_server, on):
    victim = requests.Session()
    save(victim, lab_server, *(["reusable-codes"] if on else []))
    run = replay(victim, lab_server)
    token = run.entries("token")[0]
    assert status(token) == 200
    assert "/sandbox/lab-weak/api/token" in token.exchange.request.start_line
    authorize = run.entries("authorize")[0].exchange.response.header("Location")
    assert "/sandbox/lab-weak/authorize?" in authorize
    again = run.entries("replay")[0]
    page = victim.get(lab_server("/labs/code-replay/yours")).text
    said = verdict(victim, lab_server, "code-replay", "yours")
    if on:
        assert status(again) == 200 and said == "succeeded"
        assert "your server has \u201cCodes reusable\u201d on (RFC 9700 §4.2)" in page
    else:
        assert status(again) == 400 and said == "failed"
        assert "Switch \u201cCodes reusable\u201d (RFC 9700 §4.2) on" in page


def test_your_server_is_yours_alone(lab_server, http):
    """Two learners, one room: the weak issuer applies each one's switches to that
    learner's clients only; a client of no configuration, a demo app, is refused."""
    weak, strict = requests.Session(), requests.Session()
    save(weak, lab_server, "reusable-codes")
    save(strict, lab_server)
    weak_run, strict_run = replay(weak, lab_server), replay(strict, lab_server)
    assert status(weak_run.entries("replay")[0]) == 200
    assert status(strict_run.entries("replay")[0]) == 400
    ids = {wire_client(r) for r in (weak_run, strict_run)}
    assert len(ids) == 2 and all(i.startswith("weak-") for i in ids)
    with DB.connection(lab_server.app) as conn:
        assert all(get_client(conn, i).owner == "labs" for i in ids)
    answer = http.post(lab_server("/sandbox/lab-weak/api/token"),
                       data={"grant_type": "client_credentials"},
                       auth=("sandbox-demo-web", "x"))
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


def wire_client(run) -> str:
    query = run.entries("authorize")[0].exchange.response.header("Location")
    return re.search(r"client_id=([^&]+)", query).group(1)


def test_a_change_after_the_run_started_does_not_change_its_verdict(lab_server):
    """Each save is a new configuration: a run keeps the one it started with, so
    its verdict names the switch as it was."""
    victim = requests.Session()
    save(victim, lab_server, "reusable-codes")
    loot_page = start(victim, lab_server, "code-replay", "yours")
    save(victim, lab_server)
    sign_in(victim, lab_server, "code-replay", "yours", "alice")
    thief = requests.Session()
    thief.post(loot_page, data={"csrf_token": form_token(thief.get(loot_page))})
    assert verdict(victim, lab_server, "code-replay", "yours") == "succeeded"


def test_your_server_needs_a_saved_configuration(lab_server):
    newcomer = requests.Session()
    page = newcomer.get(lab_server("/labs/code-replay/yours"))
    assert page.status_code == 200 and BUILDER in page.text
    assert "Start the run" not in page.text
    assert newcomer.get(lab_server("/labs/csrf-state/yours")).status_code == 404


@pytest.mark.parametrize("on", [True, False])
def test_refresh_replay_against_your_server(lab_server, on):
    victim = requests.Session()
    save(victim, lab_server, *(["no-refresh-rotation"] if on else []))
    attacker_page = start(victim, lab_server, "refresh-replay", "yours")
    signed_in = sign_in(victim, lab_server, "refresh-replay", "yours", "alice")
    thief = requests.Session()
    thief.post(attacker_page, data={"csrf_token": form_token(thief.get(attacker_page))})
    victim.post(lab_server("/labs/refresh-replay/yours/recheck"),
                data={"csrf_token": form_token(signed_in)})
    run = run_of(lab_server, attacker_page)
    assert "/sandbox/lab-weak/api/token" in run.entries(
        "attacker-refresh")[0].exchange.request.start_line
    taken = run.entries("attacker-refresh")[0].exchange.response
    rotated = "refresh_token" in taken.text
    assert rotated is not on
    said = verdict(victim, lab_server, "refresh-replay", "yours")
    assert said == ("succeeded" if on else "failed")
    assert status(run.entries("attacker-check")[0]) == (200 if on else 401)
    assert status(run.entries("attacker-me")[0]) == 200  # the sandbox's API


def test_the_room_counts_runs_against_your_server(lab_server):
    """A run against your server counts as started; its verdict counts as the half
    of the lab the wire showed: the attack working (a switch on), or stopped."""
    learner, presenter = requests.Session(), requests.Session()
    save(learner, lab_server, "reusable-codes")
    replay(learner, lab_server)
    verdict(learner, lab_server, "code-replay", "yours")
    counts = item(room(presenter, lab_server), item_id="code-replay")
    assert (counts["started"], counts["solved"]) == (1, 0)
    save(learner, lab_server)
    replay(learner, lab_server)
    verdict(learner, lab_server, "code-replay", "yours")
    counts = item(room(presenter, lab_server), item_id="code-replay")
    assert (counts["started"], counts["solved"]) == (1, 1)


def test_not_decided_yet_names_no_switch_and_start_again_takes_the_new_save(
        lab_server):
    """A learner who has not played the attack gets "not decided yet" and no
    switch named; after a new save, "Start again" runs against it (another client,
    carrying the new configuration)."""
    victim = requests.Session()
    save(victim, lab_server, "reusable-codes")
    first = run_of(lab_server, start(victim, lab_server, "code-replay", "yours"))
    configuration = first.client["weak_server"]
    page = victim.get(lab_server("/labs/code-replay/yours")).text
    assert verdict(victim, lab_server, "code-replay", "yours") == "undecided"
    assert 'id="deciding"' not in page and "Codes reusable (RFC 9700 §4.2) on" in page
    # The attacker's replay button before any sign-in sends nothing.
    thief = requests.Session()
    loot_page = lab_server(f"/labs/code-replay/{first.id}")
    assert "Replay" not in thief.get(loot_page).text
    save(victim, lab_server)
    again = run_of(lab_server, start(victim, lab_server, "code-replay", "yours"))
    sign_in(victim, lab_server, "code-replay", "yours", "alice")
    assert again.client["weak_server"] != configuration
    assert wire_client(again).startswith(f"weak-{again.client['weak_server']}-")
    assert "Codes reusable (RFC 9700 §4.2) off" in victim.get(
        lab_server("/labs/code-replay/yours")).text


def test_the_labs_page_links_the_builder(lab_server):
    page = requests.get(lab_server("/labs/"))
    assert 'href="/weak-server"' in page.text
    assert not re.search(r'href="/labs/weak', page.text)  # no lab-like address


@pytest.mark.parametrize("on", [True, False])
def test_mix_up_against_your_server(lab_server, on):
    """Your server forwarded to by the attacker's: with iss in its responses the
    client sees another server answered and stops; without, it cannot tell
    (RFC 9207 §2.4) and sends your code to the attacker."""
    victim = requests.Session()
    save(victim, lab_server, *(["no-iss"] if on else []))
    attacker_page = start(victim, lab_server, "mix-up", "yours")
    landed = sign_in(victim, lab_server, "mix-up", "yours", "alice")
    run = run_of(lab_server, attacker_page)
    callback = run.entries("callback")[0].exchange.request.start_line
    assert "code=" in callback
    weak_iss = "iss=" + requests.utils.quote(lab_server("/sandbox/lab-weak"), safe="")
    assert (weak_iss in callback) is not on and ("iss=" in callback) is not on
    said = verdict(victim, lab_server, "mix-up", "yours")
    if on:
        assert said == "succeeded"
        assert run.entries("token")[0].exchange.url.startswith("http://127.0.0.2:")
        assert "your server has \u201cNo iss in responses\u201d on (RFC 9700 §4.4)" in (
            landed.text)
    else:
        assert said == "failed" and run.entries("token") == []
        named = "Switch \u201cNo iss in responses\u201d (RFC 9700 §4.4) on"
        assert named in landed.text
    # The sandbox's own issuer still names itself, whatever the switch.
    plain = requests.Session()
    start(plain, lab_server, "mix-up", "defended")
    shown = sign_in(plain, lab_server, "mix-up", "defended", "alice")
    assert "Attack failed" in shown.text


BAIT = re.compile(r'id="bait" href="([^"]+)"')


def browse(browser: requests.Session, url: str) -> requests.Response:
    """Follow redirects as a browser does, ``..`` resolved at each hop."""
    while True:
        answer = browser.get(url, allow_redirects=False)
        if not answer.is_redirect:
            return answer
        url = urljoin(answer.url, answer.headers["Location"])


@pytest.mark.parametrize("on", [True, False])
def test_open_redirect_against_your_server(lab_server, on):
    """Prefix matching on your server lets the climbing redirect URI through to
    the client's redirector, and the code on to the attacker; off, your server
    compares exactly and shows an error page (RFC 9700 §4.1.3)."""
    victim = requests.Session()
    save(victim, lab_server, *(["prefix-redirect"] if on else []))
    attacker_page = start(victim, lab_server, "open-redirect", "yours")
    sign_in(victim, lab_server, "open-redirect", "yours", "alice")
    run = run_of(lab_server, attacker_page)
    assert status(run.entries("token")[0]) == 200  # an ordinary sign-in
    go = html.unescape(BAIT.search(requests.get(attacker_page).text).group(1))
    page = browse(victim, attacker_page.split("/labs/", 1)[0] + go)
    crafted = run.entries("crafted")[0].exchange.response.header("Location")
    assert lab_server("/sandbox/lab-weak/authorize?") in crafted
    assert "client_id=weak-" in crafted
    said = verdict(victim, lab_server, "open-redirect", "yours")
    shown = victim.get(lab_server("/labs/open-redirect/yours")).text
    if on:
        assert page.url == attacker_page  # no page on the way
        hop = run.entries("redirector")[0].exchange.response.header("Location")
        assert hop.startswith("http://127.0.0.2:") and "code=" in hop
        token = run.entries("attacker-token")[0]
        assert "/sandbox/lab-weak/api/token" in token.exchange.url
        assert status(token) == 200
        assert said == "succeeded"
        assert ("your server has \u201cPrefix redirect matching\u201d on "
                "(RFC 9700 §4.1)") in shown
    else:
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
        assert status(run.entries("crafted-answer")[0]) == 400
        assert run.entries("intercepted") == [] and run.entries("redirector") == []
        assert said == "failed"
        assert "Switch \u201cPrefix redirect matching\u201d (RFC 9700 §4.1) on" in shown


def test_pkce_downgrade_against_your_server(lab_server):
    """PKCE optional on your server: the request stripped of its challenge gets a
    code, redeemed without a verifier. (Off, with plain off too, your server
    refuses both tries: the next test.)"""
    victim = requests.Session()
    save(victim, lab_server, "pkce-optional")
    attacker_page = start(victim, lab_server, "pkce-downgrade", "yours")
    landed = sign_in(victim, lab_server, "pkce-downgrade", "yours", "alice")
    run = run_of(lab_server, attacker_page)
    forwarded = run.entries("downgraded")[0].exchange.response.header("Location")
    assert lab_server("/sandbox/lab-weak/authorize?") in forwarded
    assert "code_challenge" not in forwarded
    assert landed.url.startswith("http://127.0.0.2:")
    assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
    token = run.entries("attacker-token")[0]
    assert "code_verifier" not in token.exchange.request.text
    assert "/sandbox/lab-weak/api/token" in token.exchange.url
    assert status(token) == 200 and status(run.entries("attacker-me")[0]) == 200
    assert run.entries("downgraded-plain") == []  # no second try was needed
    assert verdict(victim, lab_server, "pkce-downgrade", "yours") == "succeeded"
    assert "your server has \u201cPKCE optional\u201d on (RFC 9700 §4.8)" in (
        victim.get(lab_server("/labs/pkce-downgrade/yours")).text)


def consent_headers(browser: requests.Session, server, lab: str = CLICKJACKING):
    """The weak issuer's consent page for this browser's run of ``lab``, asked as
    the attacker's decoy frames it (``show_dialog=true``)."""
    login = browser.get(server(f"/labs/{lab}/yours/login"), allow_redirects=False)
    page = browser.get(login.headers["Location"], headers=IN_A_FRAME)
    assert page.status_code == 200 and "/sandbox/lab-weak/authorize?" in page.url
    return page.headers


def framable(headers) -> bool:
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy  # only framing is ever weakened
    if "frame-ancestors" in policy:
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Frame-Options"] == "DENY"
        return False
    assert "X-Frame-Options" not in headers
    return True


def test_framable_consent_is_each_learners_own(lab_server):
    """Two learners on one server, requests interleaved over its threads: the weak
    issuer's consent page may be framed for the learner whose switch is on, and
    never for the other (RFC 9700 §4.16)."""
    weak, strict = requests.Session(), requests.Session()
    save(weak, lab_server, "framable-consent")
    save(strict, lab_server, "reusable-codes")
    for browser in (weak, strict):
        start(browser, lab_server, CLICKJACKING, "yours")
    for _ in range(4):
        assert framable(consent_headers(weak, lab_server))
        assert not framable(consent_headers(strict, lab_server))
    # The token endpoint and the lab issuer's other pages are never framable.
    assert not framable(requests.post(lab_server("/sandbox/lab-weak/api/token"))
                        .headers)
    assert not framable(requests.get(lab_server("/sandbox/lab-weak/authorize"))
                        .headers)


@pytest.mark.parametrize("on", [True, False])
def test_consent_clickjacking_against_your_server(lab_server, on):
    """The decoy frames your server's consent page: with "Framable consent" on, a
    click inside the frame agrees and the attacker's app gets a code; off, your
    server forbids the frame."""
    listener = decoy.start(lab_server.app)
    try:
        victim = requests.Session()
        save(victim, lab_server, *(["framable-consent"] if on else []))
        attacker_page = start(victim, lab_server, CLICKJACKING, "yours")
        run = run_of(lab_server, attacker_page)
        sign_in(victim, lab_server, CLICKJACKING, "yours", "alice", "cancel")
        prize = BAIT.search(requests.get(attacker_page).text).group(1)
        decoy_page = victim.get(html.unescape(prize))
        frame = html.unescape(re.search(r'<iframe id="framed" src="([^"]+)"',
                                        decoy_page.text).group(1))
        assert lab_server("/sandbox/lab-weak/authorize?") in frame
        probe = run.entries("framed")[0].exchange.response
        assert ("frame-ancestors" in probe.header("Content-Security-Policy")) \
            is not on
        if on:
            assert verdict(victim, lab_server, CLICKJACKING, "yours") == "undecided"
            page = victim.get(frame, headers=IN_A_FRAME)
            assert framable(page.headers) and "Agree" in page.text
            victim.post(page.url, data={"csrf_token": form_token(page),
                                        "decision": "agree"}, headers=IN_A_FRAME)
            arrived = run.entries("intercepted")[-1].exchange.request
            assert arrived.header("Sec-Fetch-Dest") == "iframe"
            assert status(run.entries("attacker-token")[0]) == 200
            assert "/sandbox/lab-weak/api/token" in run.entries(
                "attacker-token")[0].exchange.url
        said = verdict(victim, lab_server, CLICKJACKING, "yours")
        shown = victim.get(lab_server(f"/labs/{CLICKJACKING}/yours")).text
        if on:
            assert said == "succeeded"
            assert ("your server has \u201cFramable consent\u201d on "
                    "(RFC 9700 §4.16)") in shown
        else:
            assert said == "failed" and run.entries("attacker-token") == []
            assert "Switch \u201cFramable consent\u201d (RFC 9700 §4.16) on" in shown
    finally:
        stop(listener)


def test_proxy_page_is_not_run_against_your_server(lab_server):
    """Proxy page needs two weaknesses of the client's side as well (a helper
    page posting to any origin, a server sending no opener policy): against the
    defended client no switch of yours opens it, so it is not offered, while
    prefix matching still opens open-redirect."""
    learner = requests.Session()
    save(learner, lab_server, "prefix-redirect")
    assert learner.get(lab_server("/labs/proxy-page/yours")).status_code == 404
    assert "Run against your server" not in learner.get(
        lab_server("/labs/proxy-page")).text
    assert learner.get(lab_server("/labs/open-redirect/yours")).status_code == 200


@pytest.mark.parametrize("on", [True, False])
def test_pkce_downgrade_with_plain_pkce_against_your_server(lab_server, on):
    """Your server refuses the request without a challenge, so the other app
    tries again with ``code_challenge_method=plain``, the challenge as it read
    it: a server accepting plain takes that as the verifier (RFC 7636 §7.2);
    one accepting S256 only refuses it too. Between the two tries, nothing is
    decided."""
    victim = requests.Session()
    save(victim, lab_server, *(["pkce-plain"] if on else []))
    attacker_page = start(victim, lab_server, "pkce-downgrade", "yours")
    run = run_of(lab_server, attacker_page)
    leaving = sign_in(victim, lab_server, "pkce-downgrade", "yours", "alice")
    assert "Leaving the sandbox" in leaving.text  # the stripped request refused
    back = victim.post(leaving.url, data={"csrf_token": form_token(leaving),
                                          "decision": "continue"},
                       allow_redirects=False)
    retry = victim.get(back.headers["Location"], allow_redirects=False)
    assert retry.status_code == 302
    assert verdict(victim, lab_server, "pkce-downgrade", "yours") == "undecided"
    asked = run.entries("authorize")[0].exchange.response.header("Location")
    challenge = re.search(r"code_challenge=([^&]+)", asked).group(1)
    again = run.entries("downgraded-plain")[0].exchange.response.header("Location")
    assert again == retry.headers["Location"]
    assert lab_server("/sandbox/lab-weak/authorize?") in again
    assert "code_challenge_method=plain" in again
    assert f"code_challenge={challenge}" in again
    page = victim.get(again)
    if on:
        assert "Agree" in page.text
        victim.post(page.url, data={"csrf_token": form_token(page),
                                    "decision": "agree"})
        token = run.entries("attacker-token")[0]
        sent = dict(parse_qsl(token.exchange.request.text))
        assert sent["code_verifier"] == requests.utils.unquote(challenge)
        assert status(token) == 200 and status(run.entries("attacker-me")[0]) == 200
        assert verdict(victim, lab_server, "pkce-downgrade", "yours") == "succeeded"
        assert "your server has \u201cPlain PKCE allowed\u201d on (RFC 9700 §4.8)" in (
            victim.get(lab_server("/labs/pkce-downgrade/yours")).text)
    else:
        assert "Leaving the sandbox" in page.text
        victim.post(page.url, data={"csrf_token": form_token(page),
                                    "decision": "continue"})
        caught = run.entries("intercepted")[-1].exchange.request.start_line
        assert "error=invalid_request" in caught
        assert run.entries("attacker-token") == []
        assert verdict(victim, lab_server, "pkce-downgrade", "yours") == "failed"
        shown = victim.get(lab_server("/labs/pkce-downgrade/yours")).text
        assert ("Switch \u201cPlain PKCE allowed\u201d (RFC 9700 §4.8) or "
                "\u201cPKCE optional\u201d (RFC 9700 §4.8) on") in shown
