"""Attack labs 16-17 over HTTP (device-code phishing, consent clickjacking): each
attack succeeds against the lab's weak issuer and fails against the defence, judged
on the captured messages; the sandbox's own issuers keep their behaviour."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.core.demo import device_app
from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

LINK = re.compile(r'id="bait" href="([^"]+)"')
DEVICE = "device-code-phishing"


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def bait(page: requests.Response) -> str:
    return html.unescape(LINK.search(page.text).group(1))


def poll(thief: requests.Session, attacker_page: str) -> requests.Response:
    """The attacker's page's button: poll the token endpoint once."""
    loot = thief.get(attacker_page)
    return thief.post(attacker_page, data={"csrf_token": form_token(loot)})


def follow_lure(victim: requests.Session, server, attacker_page: str,
                decision: str | None = "agree") -> requests.Response:
    """Alice opens the lure's link, sends the code, signs in and answers; the page
    she decided on (or, with ``decision=None``, the one she was asked on)."""
    lure = requests.get(attacker_page)
    entry = victim.get(bait(lure))
    assert entry.status_code == 200
    code = re.search(r'name="user_code" value="([^"]+)"', entry.text).group(1)
    login = victim.post(entry.url.split("?")[0],
                        data={"csrf_token": form_token(entry), "user_code": code})
    assert "Continue as" in login.text
    asked = victim.post(server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(server(""), 1)[1]})
    if decision is None:
        return asked
    decided = victim.post(asked.url, data={"csrf_token": form_token(asked),
                                           "decision": decision})
    assert decided.status_code == 200
    return asked


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_device_code_phishing(lab_server, variant):
    victim, thief = requests.Session(), requests.Session()
    attacker_page = start(victim, lab_server, DEVICE, variant)
    run = run_of(lab_server, attacker_page)
    started = run.entries("attacker-device")[0]
    assert status(started) == 200
    user_code = json.loads(started.exchange.response.body)["user_code"]
    lure = requests.get(attacker_page).text
    assert user_code in lure
    lab_path = "/sandbox/lab-device-code-phishing/"
    assert (lab_path in started.exchange.url) == (variant == "vulnerable")
    # Alice answers the way the page leads her: the weak page asks nothing she
    # can judge; the defended one says who asks, from where, and when.
    if variant == "vulnerable":
        asked = follow_lure(victim, lab_server, attacker_page, "agree")
        assert "Approve device?" in asked.text
        assert "127.0.0.1" not in asked.text and "PlaylistPal" not in asked.text
    else:
        asked = follow_lure(victim, lab_server, attacker_page, None)
        assert "Did you start this on a device you own?" in asked.text
        assert "PlaylistPal TV" in asked.text and "127.0.0.1" in asked.text
        assert "UTC" in asked.text
        victim.post(asked.url, data={"csrf_token": form_token(asked),
                                     "decision": "cancel"})
    poll(thief, attacker_page)
    polled = run.entries("attacker-poll")[-1]
    assert "device_code=" in polled.exchange.request.text
    answer = json.loads(polled.exchange.response.body)
    if variant == "vulnerable":
        assert status(polled) == 200 and answer["access_token"]
        assert status(run.entries("attacker-me")[0]) == 200
        assert "Alice Lindqvist" in requests.get(attacker_page).text
        assert verdict(victim, lab_server, DEVICE, variant) == "succeeded"
    else:
        assert status(polled) == 400 and answer["error"] == "access_denied"
        assert run.entries("attacker-me") == []
        assert verdict(victim, lab_server, DEVICE, variant) == "failed"


def test_device_code_phishing_ignored_lure_decides_nothing(lab_server):
    """A victim who ignores the lure: the attacker's polls get
    ``authorization_pending``, then ``slow_down`` for polling too fast; neither
    decides anything."""
    victim, thief = requests.Session(), requests.Session()
    attacker_page = start(victim, lab_server, DEVICE, "defended")
    run = run_of(lab_server, attacker_page)
    poll(thief, attacker_page)
    poll(thief, attacker_page)
    errors = [json.loads(e.exchange.response.body)["error"]
              for e in run.entries("attacker-poll")]
    assert errors == ["authorization_pending", "slow_down"]
    assert verdict(victim, lab_server, DEVICE, "defended") == "undecided"


def test_device_code_phishing_victim_who_cancels_the_weak_page(lab_server):
    """Even the weak page has Cancel: a victim who uses it beats the attack, and the
    wire says so; a second poll after the tokens were refused changes nothing."""
    victim, thief = requests.Session(), requests.Session()
    attacker_page = start(victim, lab_server, DEVICE, "vulnerable")
    follow_lure(victim, lab_server, attacker_page, "cancel")
    poll(thief, attacker_page)
    run = run_of(lab_server, attacker_page)
    assert json.loads(run.entries("attacker-poll")[0].exchange.response.body)[
        "error"] == "access_denied"
    assert verdict(victim, lab_server, DEVICE, "vulnerable") == "failed"


def test_the_weak_device_page_is_only_the_lab_issuers(lab_server, http):
    """The sandbox's own device page keeps the context whatever the lab does, and
    the lab issuer's device endpoint serves only the lab's clients."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, DEVICE, "vulnerable")
    asked = follow_lure(victim, lab_server, attacker_page, None)
    assert "Approve device?" in asked.text
    tv = device_app(lab_server.app.config)
    refused = http.post(lab_server("/sandbox/lab-device-code-phishing/api/device"),
                        data={"client_id": tv.client_id})
    assert refused.status_code in (400, 401)
    assert refused.json()["error"] == "invalid_client"
    own = http.post(lab_server("/sandbox/api/device"), data={"client_id": tv.client_id})
    assert own.status_code == 200
    # The TV app's code, typed at the lab issuer's page, is not found there.
    lab_page = requests.Session()
    entry = lab_page.get(lab_server("/sandbox/lab-device-code-phishing/device"))
    wrong = lab_page.post(entry.url, data={"csrf_token": form_token(entry),
                                           "user_code": own.json()["user_code"]})
    assert wrong.status_code == 400


@pytest.mark.parametrize("issuer", ["/sandbox", "/sandbox/best-practice"])
def test_the_sandboxs_device_page_says_who_asks_from_where_and_when(lab_server, issuer):
    """The defence, on the sandbox's own issuers for every app: the approval page
    names the app, the address and time the device asked from, and asks whether
    the user started it (RFC 8628 §5.4, draft-ietf-oauth-cross-device-security)."""
    tv = device_app(lab_server.app.config)
    started = requests.post(lab_server(issuer + "/api/device"),
                            data={"client_id": tv.client_id}).json()
    phone = requests.Session()
    entry = phone.get(started["verification_uri_complete"])
    login = phone.post(entry.url.split("?")[0], data={
        "csrf_token": form_token(entry), "user_code": started["user_code"]})
    asked = phone.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(lab_server(""), 1)[1]})
    shown = html.unescape(asked.text)
    assert "Flow Lab TV app (demo)" in shown and started["user_code"] in shown
    assert "Started from" in shown and "127.0.0.1" in shown
    assert re.search(r"\d\d:\d\d:\d\d UTC, just now", shown)
    assert "Did you start this on a device you own?" in shown
    assert "Approve device?" not in shown
