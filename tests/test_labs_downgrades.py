"""Attack labs "pkce-downgrade", "scope-upgrade" and "open-redirect" over HTTP:
each attack succeeds against the lab issuer's weak switch and fails against the
sandbox's own issuers, judged on the captured messages; an unexpected learner
path decides nothing; the switches stay on the lab's own issuer."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urljoin

import pytest
import requests

from flowlab.core.http import s256
from flowlab.labs.client import credentials
from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def _body(entry) -> dict:
    return json.loads(entry.exchange.response.body)


# -- pkce-downgrade ---------------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_pkce_downgrade(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "pkce-downgrade", variant)
    landed = sign_in(victim, lab_server, "pkce-downgrade", variant, "alice")
    if variant == "defended":  # the sandbox says it sends an error back: continue
        assert "Leaving the sandbox" in landed.text
        landed = victim.post(landed.url, data={"csrf_token": form_token(landed),
                                               "decision": "continue"})
    run = run_of(lab_server, attacker_page)
    # The app asked with an S256 challenge; the other app forwarded it without one.
    asked = run.entries("authorize")[0].exchange.response.header("Location")
    assert "code_challenge=" in asked and "code_challenge_method=S256" in asked
    assert asked.startswith("http://127.0.0.2:")
    forwarded = run.entries("downgraded")[0].exchange.response.header("Location")
    assert "code_challenge" not in forwarded and "state=" in forwarded
    assert landed.url.startswith("http://127.0.0.2:")
    caught = run.entries("intercepted")[0].exchange.request.start_line
    if variant == "vulnerable":
        assert "/sandbox/lab-pkce-downgrade/authorize?" in forwarded
        assert "code=" in caught
        token = run.entries("attacker-token")[0]
        assert "code_verifier" not in token.exchange.request.text
        assert "/sandbox/lab-pkce-downgrade/api/token" in token.exchange.url
        assert status(token) == 200
        assert _body(run.entries("attacker-me")[0])["id"] == "alice"
        assert "access_token" in requests.get(attacker_page).text
    else:
        assert "/sandbox/best-practice/authorize?" in forwarded
        assert "code=" not in caught and "error=invalid_request" in caught
        assert run.entries("attacker-token") == []
    expected = {"vulnerable": "succeeded", "defended": "failed"}[variant]
    assert verdict(victim, lab_server, "pkce-downgrade", variant) == expected


def test_pkce_downgrade_cancelled_decides_nothing(lab_server):
    """Cancel at the consent page: the other app receives an error, not a code,
    which decides nothing; a reload of its callback redeems nothing twice."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "pkce-downgrade", "vulnerable")
    sign_in(victim, lab_server, "pkce-downgrade", "vulnerable", "bob", "cancel")
    run = run_of(lab_server, attacker_page)
    assert "error=access_denied" in run.entries("intercepted")[0].exchange.request \
        .start_line
    assert run.entries("attacker-token") == []
    assert verdict(victim, lab_server, "pkce-downgrade", "vulnerable") == "undecided"
    # Signing in again, then the browser replaying the callback: one redemption.
    sign_in(victim, lab_server, "pkce-downgrade", "vulnerable", "bob")
    requests.get(run.entries("intercepted")[-1].exchange.url)
    assert len(run.entries("attacker-token")) == 1
    assert verdict(victim, lab_server, "pkce-downgrade", "vulnerable") == "succeeded"


def _authorize(browser, server, path: str, lab: str, params: dict,
               redirect: str = "http://127.0.0.2:9/labs/{lab}/vulnerable/callback",
               **kwargs):
    """An authorization request for the lab's vulnerable client at ``path``."""
    client_id, _ = credentials(server.app.config, lab, "vulnerable")
    return browser.get(server(path + "/authorize"), params={
        "response_type": "code", "client_id": client_id,
        "redirect_uri": redirect.format(lab=lab), "scope": "user-read-private",
        "state": "s" * 24, **params}, **kwargs)


def _code(browser, server, page) -> str:
    """Sign in as Alice at ``page`` and agree: the code in the redirect (at once,
    where she is signed in and agreed before)."""
    if page.is_redirect:
        return page.headers["Location"].split("code=", 1)[1].split("&", 1)[0]
    consent = browser.post(server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": "alice",
        "next": page.url.split(server(""), 1)[1]}, allow_redirects=False)
    consent = browser.get(server(consent.headers["Location"]), allow_redirects=False)
    if consent.status_code == 200:  # the consent page: agree
        consent = browser.post(consent.url, data={
            "csrf_token": form_token(consent), "decision": "agree"},
            allow_redirects=False)
    return consent.headers["Location"].split("code=", 1)[1].split("&", 1)[0]


def test_pkce_switches_on_the_lab_issuer_only(lab_server, http):
    """``pkce_plain``: a ``plain`` challenge accepted and its verifier (the
    challenge itself) redeemed at the lab issuer; the sandbox's issuers refuse
    ``plain`` at authorize. ``pkce_optional``: a public client without PKCE is
    refused by both sandbox issuers."""
    challenge = s256("v" * 50)
    plain = {"code_challenge": challenge, "code_challenge_method": "plain"}
    alice = requests.Session()
    page = _authorize(alice, lab_server, "/sandbox", "pkce-downgrade", {})
    alice.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": "alice", "next": "/sandbox/"})
    for path in ("/sandbox", "/sandbox/best-practice"):
        for params in (plain, {}):
            answer = _authorize(alice, lab_server, path, "pkce-downgrade", params,
                                allow_redirects=False)
            where = answer.headers.get("Location", "")
            # A redirect with the error, or the page saying one is sent back.
            assert "invalid_request" in where + answer.text and "code=" not in where
    browser = requests.Session()
    page = _authorize(browser, lab_server, "/sandbox/lab-pkce-downgrade",
                      "pkce-downgrade", plain)
    assert page.status_code == 200
    code = _code(browser, lab_server, page)
    client_id, _ = credentials(lab_server.app.config, "pkce-downgrade", "vulnerable")
    token = http.post(lab_server("/sandbox/lab-pkce-downgrade/api/token"), data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "redirect_uri": "http://127.0.0.2:9/labs/pkce-downgrade/vulnerable/callback",
        "code_verifier": challenge})
    assert token.status_code == 200 and token.json()["access_token"]
    # pkce_optional: a code asked for with an S256 challenge, redeemed without
    # a verifier (the sandbox's issuers refuse it: tests/test_sandbox_pkce.py).
    s256_code = _code(browser, lab_server, _authorize(
        browser, lab_server, "/sandbox/lab-pkce-downgrade", "pkce-downgrade",
        {"code_challenge": challenge, "code_challenge_method": "S256"},
        allow_redirects=False))
    token = http.post(lab_server("/sandbox/lab-pkce-downgrade/api/token"), data={
        "grant_type": "authorization_code", "code": s256_code, "client_id": client_id,
        "redirect_uri": "http://127.0.0.2:9/labs/pkce-downgrade/vulnerable/callback"})
    assert token.status_code == 200 and token.json()["access_token"]


# -- scope-upgrade ----------------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_scope_upgrade(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "scope-upgrade", variant)
    signed_in = sign_in(victim, lab_server, "scope-upgrade", variant, "alice")
    assert "Alice Lindqvist" in signed_in.text
    run = run_of(lab_server, attacker_page)
    granted = _body(run.entries("token")[0])
    assert granted["scope"].split() == ["user-read-private", "user-read-email"]
    assert verdict(victim, lab_server, "scope-upgrade", variant) == "undecided"
    loot = requests.Session()
    page = loot.get(attacker_page)
    assert f"refresh_token={granted['refresh_token']}" in page.text
    loot.post(attacker_page, data={"csrf_token": form_token(page)})
    asked = run.entries("attacker-refresh")[0]
    sent = asked.exchange.request.text
    assert f"refresh_token={granted['refresh_token']}" in sent
    assert "scope=user-read-private+user-read-email+playlist-read-private" in sent
    if variant == "vulnerable":
        assert "/sandbox/lab-scope-upgrade/api/token" in asked.exchange.url
        assert status(asked) == 200
        assert "playlist-read-private" in _body(asked)["scope"].split()
        playlists = run.entries("attacker-playlists")[0]
        assert status(playlists) == 200 and _body(playlists)["items"]
    else:
        assert "/sandbox/api/token" in asked.exchange.url
        assert status(asked) == 400 and _body(asked)["error"] == "invalid_scope"
        assert run.entries("attacker-playlists") == []
    expected = {"vulnerable": "succeeded", "defended": "failed"}[variant]
    assert verdict(victim, lab_server, "scope-upgrade", variant) == expected


def test_scope_upgrade_before_sign_in_decides_nothing(lab_server):
    """The attacker's button before Alice signed in sends nothing; a refresh
    refused for a reason the scope check did not cause decides nothing."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "scope-upgrade", "defended")
    loot = requests.Session()
    page = loot.get(attacker_page)
    assert "refresh_token=" not in page.text
    run = run_of(lab_server, attacker_page)
    assert run.entries("attacker-refresh") == []
    assert verdict(victim, lab_server, "scope-upgrade", "defended") == "undecided"
    sign_in(victim, lab_server, "scope-upgrade", "defended", "alice")
    stolen = _body(run.entries("token")[0])["refresh_token"]
    # Alice revokes the app's access first: the refresh is refused as invalid_grant.
    client_id, secret = credentials(lab_server.app.config, "scope-upgrade",
                                    "defended")
    requests.post(lab_server("/sandbox/api/revoke"), auth=(client_id, secret),
                  data={"token": stolen})
    loot.post(attacker_page, data={"csrf_token": form_token(loot.get(attacker_page))})
    assert _body(run.entries("attacker-refresh")[0])["error"] == "invalid_grant"
    assert verdict(victim, lab_server, "scope-upgrade", "defended") == "undecided"


def test_scope_check_switch_on_the_lab_issuer_only(lab_server, http):
    """``scope_check = false``: a token request with a wider ``scope`` gets it at
    the lab issuer; the sandbox's token endpoint gives the code's own scope."""
    client_id, secret = credentials(lab_server.app.config, "scope-upgrade",
                                    "vulnerable")
    redirect = "http://127.0.0.1:9/labs/{lab}/vulnerable/callback"
    browser = requests.Session()
    for path in ("/sandbox", "/sandbox/lab-scope-upgrade"):
        code = _code(browser, lab_server, _authorize(
            browser, lab_server, "/sandbox", "scope-upgrade", {}, redirect,
            allow_redirects=False))
        answer = http.post(lab_server(path + "/api/token"), auth=(client_id, secret),
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": redirect.format(lab="scope-upgrade"),
                                 "scope": "user-read-private playlist-read-private"})
        assert answer.status_code == 200
        wide = path != "/sandbox"
        assert ("playlist-read-private" in answer.json()["scope"].split()) == wide


# -- open-redirect ----------------------------------------------------------------

BAIT = re.compile(r'id="bait" href="([^"]+)"')


def _browse(browser, url: str):
    """Follow redirects as a browser does, ``..`` resolved at each hop (requests
    keeps it in a redirect's ``Location``; a browser never does)."""
    while True:
        answer = browser.get(url, allow_redirects=False)
        if not answer.is_redirect:
            return answer
        url = urljoin(answer.url, answer.headers["Location"])


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_open_redirect(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "open-redirect", variant)
    run = run_of(lab_server, attacker_page)
    assert "Alice Lindqvist" in sign_in(victim, lab_server, "open-redirect", variant,
                                        "alice").text
    assert status(run.entries("token")[0]) == 200  # an ordinary sign-in
    go = html.unescape(BAIT.search(requests.get(attacker_page).text).group(1))
    page = _browse(victim, attacker_page.split("/labs/", 1)[0] + go)
    crafted = requests.utils.unquote(requests.utils.unquote(
        run.entries("crafted")[0].exchange.response.header("Location")))
    assert "/labs/open-redirect/" + variant + "/callback/../page/go?to=" \
        "http://127.0.0.2:" in crafted
    if variant == "vulnerable":
        assert "/sandbox/lab-open-redirect/authorize?" in crafted
        assert page.url == attacker_page  # no page on the way
        hop = run.entries("redirector")[0].exchange
        assert hop.request.header("Host") == lab_server("").split("//")[1].rstrip("/")
        assert "code=" in hop.response.header("Location")
        assert hop.response.header("Location").startswith("http://127.0.0.2:")
        assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
        token = run.entries("attacker-token")[0]
        assert "code_verifier=" in token.exchange.request.text
        assert status(token) == 200
        assert _body(run.entries("attacker-me")[0])["id"] == "alice"
    else:
        assert "/sandbox/authorize?" in crafted
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
        assert status(run.entries("crafted-answer")[0]) == 400
        assert run.entries("intercepted") == [] and run.entries("redirector") == []
    expected = {"vulnerable": "succeeded", "defended": "failed"}[variant]
    assert verdict(victim, lab_server, "open-redirect", variant) == expected


def test_open_redirect_unexpected_paths(lab_server):
    """Following the bait before signing in, then cancelling at the consent page,
    or signing in only through the client's own button, decides nothing; the
    redirector without a target answers 400."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "open-redirect", "vulnerable")
    run = run_of(lab_server, attacker_page)
    go = html.unescape(BAIT.search(requests.get(attacker_page).text).group(1))
    page = _browse(victim, attacker_page.split("/labs/", 1)[0] + go)
    consent = victim.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": "bob",
        "next": page.url.split(lab_server(""), 1)[1]})
    cancelled = victim.post(consent.url, data={
        "csrf_token": form_token(consent), "decision": "cancel"},
        allow_redirects=False)
    _browse(victim, cancelled.headers["Location"])
    assert "error=access_denied" in run.entries("intercepted")[0].exchange.request \
        .start_line
    assert run.entries("attacker-token") == []
    assert verdict(victim, lab_server, "open-redirect", "vulnerable") == "undecided"
    assert "Bob Okafor" in sign_in(victim, lab_server, "open-redirect", "vulnerable",
                                   "bob").text
    assert status(run.entries("token")[0]) == 200
    assert verdict(victim, lab_server, "open-redirect", "vulnerable") == "undecided"
    assert victim.get(lab_server("/labs/open-redirect/vulnerable/page/go"),
                      allow_redirects=False).status_code == 400


def test_prefix_match_on_the_lab_issuer_only(lab_server, http):
    """``redirect_match = "prefix"``: the lab issuer takes any URI under the
    registered one; the sandbox's issuers compare exactly."""
    longer = "http://127.0.0.1:9/labs/{lab}/vulnerable/callback/x"
    pkce = {"code_challenge": s256("w" * 50), "code_challenge_method": "S256"}
    alice = requests.Session()
    page = _authorize(alice, lab_server, "/sandbox", "open-redirect", pkce,
                      longer.replace("/x", ""))
    alice.post(lab_server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": "alice", "next": "/sandbox/"})
    for path in ("/sandbox", "/sandbox/best-practice"):
        page = _authorize(http, lab_server, path, "open-redirect", pkce, longer)
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
    page = _authorize(alice, lab_server, "/sandbox/lab-open-redirect",
                      "open-redirect", pkce, longer, allow_redirects=False)
    if page.status_code == 302:  # Alice agreed to this app before: a code
        assert page.headers["Location"].startswith(
            longer.format(lab="open-redirect") + "?code=")
    else:  # or the consent page, the redirect URI accepted
        assert page.status_code == 200 and "Agree" in page.text
    other = _authorize(alice, lab_server, "/sandbox/lab-open-redirect",
                       "open-redirect", pkce, "http://127.0.0.2:9/labs/{lab}/x")
    assert other.status_code == 400 and "Invalid redirect URI" in other.text


def test_sandbox_metadata_unchanged_by_these_switches(lab_server, http):
    """The sandbox's issuers still publish S256 only and name no lab path; the lab
    issuers publish no metadata at all."""
    for path in ("/sandbox", "/sandbox/best-practice"):
        meta = http.get(lab_server("/.well-known/oauth-authorization-server" + path))
        assert meta.json()["code_challenge_methods_supported"] == ["S256"]
        assert "lab-" not in meta.text
    for lab in ("pkce-downgrade", "scope-upgrade", "open-redirect"):
        assert http.get(lab_server("/.well-known/oauth-authorization-server"
                                   f"/sandbox/lab-{lab}")).status_code == 404
