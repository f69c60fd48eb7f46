"""Attack labs 16-17 over HTTP (device-code phishing, consent clickjacking): each
attack succeeds against the lab's weak issuer and fails against the defence, judged
on the captured messages; the sandbox's own issuers keep their behaviour."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.core.demo import demo_apps
from flowlab.core.demo import device_app
from flowlab.serving import stop
from flowlab.web import attacker
from flowlab.web import decoy
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

LINK = re.compile(r'id="bait" href="([^"]+)"')
DEVICE = "device-code-phishing"
CLICKJACKING = "consent-clickjacking"
IN_A_FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site"}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listeners = [attacker.start(server.app), decoy.start(server.app)]
    yield server
    for listener in listeners:
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


def sign_in_and_cancel(victim: requests.Session, server, variant: str):
    """Step 2: Alice signs in, sees the attacker's app plainly, and cancels."""
    login = victim.get(server(f"/labs/{CLICKJACKING}/{variant}/login"))
    asked = victim.post(server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(server(""), 1)[1]})
    assert "PrizeDraw" in asked.text
    return victim.post(asked.url, data={"csrf_token": form_token(asked),
                                        "decision": "cancel"})


def framed_consent(victim: requests.Session, frame: str) -> requests.Response:
    """What Chromium does inside the frame when the click lands on Agree: the
    consent page, then its form posted, each request marked as a frame's."""
    page = victim.get(frame, headers=IN_A_FRAME)
    return victim.post(page.url, data={"csrf_token": form_token(page),
                                       "decision": "agree"}, headers=IN_A_FRAME)


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_consent_clickjacking(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, CLICKJACKING, variant)
    run = run_of(lab_server, attacker_page)
    refused = sign_in_and_cancel(victim, lab_server, variant)
    assert "error=access_denied" in run.entries("intercepted")[0].exchange.request \
        .start_line
    assert refused.url.startswith("http://127.0.0.2:")
    assert verdict(victim, lab_server, CLICKJACKING, variant) == "undecided"
    prize = bait(requests.get(attacker_page))
    assert prize.startswith("http://127.0.0.1:") and not prize.startswith(
        lab_server(""))
    decoy_page = victim.get(prize)
    frame = html.unescape(re.search(r'<iframe id="framed" src="([^"]+)"',
                                    decoy_page.text).group(1))
    lab_path = f"/sandbox/lab-{CLICKJACKING}/authorize?"
    assert (lab_path in frame) == (variant == "vulnerable")
    assert "show_dialog=true" in frame
    origin = lab_server("").rstrip("/")
    assert f"frame-src {origin}" in decoy_page.headers["Content-Security-Policy"]
    probe = run.entries("framed")[0].exchange.response
    policy = probe.header("Content-Security-Policy")
    if variant == "vulnerable":
        assert "frame-ancestors" not in policy
        assert probe.header("X-Frame-Options") is None
        assert "default-src 'self'" in policy  # only framing is weakened
        assert verdict(victim, lab_server, CLICKJACKING, variant) == "undecided"
        framed_consent(victim, frame)
        arrived = run.entries("intercepted")[-1].exchange.request
        assert arrived.header("Sec-Fetch-Dest") == "iframe"
        assert "code=" in arrived.start_line
        assert status(run.entries("attacker-token")[0]) == 200
        assert status(run.entries("attacker-me")[0]) == 200
        assert verdict(victim, lab_server, CLICKJACKING, variant) == "succeeded"
    else:
        assert "frame-ancestors 'none'" in policy
        assert probe.header("X-Frame-Options") == "DENY"
        assert verdict(victim, lab_server, CLICKJACKING, variant) == "failed"
        assert run.entries("attacker-token") == []


def test_consent_clickjacking_knowing_consent_decides_nothing(lab_server):
    """A learner who agrees on the consent page itself (no frame) hands the
    attacker a code, but that is not clickjacking: not decided yet."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, CLICKJACKING, "vulnerable")
    run = run_of(lab_server, attacker_page)
    login = victim.get(lab_server(f"/labs/{CLICKJACKING}/vulnerable/login"))
    asked = victim.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(lab_server(""), 1)[1]})
    victim.post(asked.url, data={"csrf_token": form_token(asked),
                                 "decision": "agree"})
    assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
    assert verdict(victim, lab_server, CLICKJACKING, "vulnerable") == "undecided"


def test_only_the_lab_issuers_consent_page_may_be_framed(lab_server, http):
    """The weak issuer drops frame-ancestors and X-Frame-Options on its own pages
    only: the sandbox's issuers, its other pages, and other labs' issuers keep
    them (RFC 9700 §4.16)."""
    for path in ("/sandbox/authorize?client_id=x", "/sandbox/best-practice/authorize",
                 "/sandbox/lab-redirect-uri/authorize", "/sandbox/", "/labs/",
                 f"/labs/{CLICKJACKING}/vulnerable",
                 "/sandbox/lab-device-code-phishing/authorize"):
        answer = http.get(lab_server(path))
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
    weak = http.get(lab_server(f"/sandbox/lab-{CLICKJACKING}/authorize"))
    assert "frame-ancestors" not in weak.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in weak.headers
    token = http.post(lab_server(f"/sandbox/lab-{CLICKJACKING}/api/token"))
    assert "frame-ancestors 'none'" in token.headers["Content-Security-Policy"]


REGISTRATION = "registration-abuse"


def register(thief: requests.Session, attacker_page: str, run):
    """The attacker's page's button: register the look-alike app; its request and
    answer as captured."""
    poll(thief, attacker_page)
    entry = run.entries("attacker-register")[-1]
    return (json.loads(entry.exchange.request.body), entry,
            json.loads(entry.exchange.response.body))


def answer_the_lure(victim: requests.Session, server, attacker_page: str,
                    decision: str) -> requests.Response:
    """Alice follows the attacker's link, signs in, reads the consent page and
    answers; the consent page."""
    login = victim.get(bait(requests.get(attacker_page)))
    asked = victim.post(server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(server(""), 1)[1]})
    victim.post(asked.url, data={"csrf_token": form_token(asked),
                                 "decision": decision})
    return asked


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_registration_abuse(lab_server, variant):
    victim, thief = requests.Session(), requests.Session()
    attacker_page = start(victim, lab_server, REGISTRATION, variant)
    run = run_of(lab_server, attacker_page)
    assert verdict(victim, lab_server, REGISTRATION, variant) == "undecided"
    sent, entry, answer = register(thief, attacker_page, run)
    issuer = ("/sandbox/lab-registration-abuse/" if variant == "vulnerable"
              else "/sandbox/best-practice/")
    assert issuer + "api/register" in entry.exchange.url
    assert status(entry) == 201
    # (a) SSRF: logo_uri names the lab's stand-in internal admin page, loopback.
    assert sent["logo_uri"].startswith("http://127.0.0.1:")
    assert "/internal" in sent["logo_uri"]
    secret = run.attacker["internal_secret"]
    leaked = secret in requests.get(attacker_page).text  # the attacker's page
    assert leaked == (variant == "vulnerable")
    # (b) impersonation: another app's name, the attacker's redirect URI.
    assert sent["client_name"] == "PlaylistPal"
    assert sent["redirect_uris"][0].startswith("http://127.0.0.2:")
    if variant == "vulnerable":
        assert run.entries("internal")  # the issuer fetched the internal page
        assert secret in entry.exchange.response.text
        assert verdict(victim, lab_server, REGISTRATION, variant) == "succeeded"
        asked = answer_the_lure(victim, lab_server, attacker_page, "agree")
        assert "PlaylistPal" in asked.text and "registered itself" not in asked.text
        arrived = run.entries("intercepted")[-1].exchange.request.start_line
        assert "code=" in arrived
        assert status(run.entries("attacker-token")[0]) == 200
        assert status(run.entries("attacker-me")[0]) == 200
    else:
        assert run.entries("internal") == [] and secret not in entry.exchange \
            .response.text
        assert "logo_uri" not in answer
        assert verdict(victim, lab_server, REGISTRATION, variant) == "undecided"
        asked = answer_the_lure(victim, lab_server, attacker_page, "cancel")
        shown = html.unescape(asked.text)
        assert "registered itself" in shown and "not verified" in shown
        assert "127.0.0.2" in shown
        arrived = run.entries("intercepted")[-1].exchange.request.start_line
        assert "error=access_denied" in arrived
        assert run.entries("attacker-token") == []
        assert verdict(victim, lab_server, REGISTRATION, variant) == "failed"


def test_registration_abuse_the_victim_who_agrees_anyway(lab_server):
    """Defended, but Alice agrees in spite of the mark: the impersonation worked,
    and the verdict says so. The attacker's page, reloaded, registers no more."""
    victim, thief = requests.Session(), requests.Session()
    attacker_page = start(victim, lab_server, REGISTRATION, "defended")
    run = run_of(lab_server, attacker_page)
    register(thief, attacker_page, run)
    assert 'name="csrf_token"' not in thief.get(attacker_page).text
    answer_the_lure(victim, lab_server, attacker_page, "agree")
    assert status(run.entries("attacker-token")[0]) == 200
    assert verdict(victim, lab_server, REGISTRATION, "defended") == "succeeded"


def test_the_weak_registration_stays_on_the_lab_issuer(lab_server, http):
    """The sandbox's own registration ignores logo_uri and fetches nothing; the
    weak issuer fetches only loopback addresses; registered clients of one issuer
    are not served by the other."""
    sandbox = requests.Session()
    attacker_page = start(sandbox, lab_server, REGISTRATION, "vulnerable")
    run = run_of(lab_server, attacker_page)
    internal = run.attacker["internal"]
    body = {"client_name": "Flow Lab web app (demo)", "logo_uri": internal,
            "redirect_uris": ["http://127.0.0.1/cb"]}
    own = http.post(lab_server("/sandbox/best-practice/api/register"), json=body)
    assert own.status_code == 201 and run.attacker["internal_secret"] not in own.text
    assert run.entries("internal") == []
    outside = http.post(lab_server("/sandbox/lab-registration-abuse/api/register"),
                        json={**body, "logo_uri": "http://192.0.2.1/admin"})
    assert outside.status_code == 201 and "logo_uri_fetched" not in outside.json()
    # A client registered at the best-practice issuer is no client of the lab's.
    refused = http.get(lab_server("/sandbox/lab-registration-abuse/authorize"),
                       params={"client_id": own.json()["client_id"],
                               "response_type": "code",
                               "redirect_uri": "http://127.0.0.1/cb"})
    assert refused.status_code == 400
    assert http.post(lab_server("/sandbox/api/register"), json=body).status_code == 404


def test_the_sandboxs_consent_page_marks_an_app_that_registered_itself(lab_server,
                                                                       http):
    """RFC 7591 §5, on the sandbox's own best-practice issuer for every app: a
    registered name is marked unverified, with the host it sends the user back
    to; an app registered by hand (a demo app) is not marked."""
    body = {"client_name": "Flow Lab web app (demo)",
            "redirect_uris": ["http://127.0.0.1/elsewhere"],
            "token_endpoint_auth_method": "none"}
    registered = http.post(lab_server("/sandbox/best-practice/api/register"),
                           json=body).json()
    browser = requests.Session()
    params = {"response_type": "code", "client_id": registered["client_id"],
              "redirect_uri": "http://127.0.0.1/elsewhere", "scope": "user-read-email",
              "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256"}
    login = browser.get(lab_server("/sandbox/best-practice/authorize"), params=params)
    asked = browser.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(login), "user": "alice",
        "next": login.url.split(lab_server(""), 1)[1]})
    shown = html.unescape(asked.text)
    assert 'id="unverified"' in shown and "registered itself" in shown
    assert "not verified" in shown and "<strong>127.0.0.1</strong>" in shown
    web = demo_apps(lab_server.app.config)[0]
    demo = browser.get(lab_server("/sandbox/authorize"), params={
        "response_type": "code", "client_id": web.client_id, "scope": "user-read-email",
        "redirect_uri": web.redirect_uris[0], "show_dialog": "true"})
    assert "Agree" in demo.text and 'id="unverified"' not in demo.text
