"""Attack labs 3-7 over HTTP: each attack succeeds against the lab's weak
configuration and fails against the defence, judged on the captured messages; the
sandbox's own behaviour is unchanged by each lab's configuration."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.labs import attacker
from flowlab.serving import stop
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
        assert "code_verifier" not in token.request.body
        assert status(run.entries("token")[0]) == 200
        me = json.loads(run.entries("me")[0].exchange.response.body)
        assert me["id"] == "alice"
        assert "Attack succeeded" in page.text and "Alice Lindqvist" in page.text
    else:
        assert "code_verifier=" in token.request.body
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
    assert "code_verifier=" in token.request.body  # a public client, with PKCE
    stolen = json.loads(token.response.body)["refresh_token"]
    thief = requests.Session()
    loot = thief.get(attacker_page)
    assert f"refresh_token={stolen}" in loot.text
    thief.post(attacker_page, data={"csrf_token": form_token(loot)})
    taken = run.entries("attacker-refresh")[0]
    assert f"refresh_token={stolen}" in taken.exchange.request.body
    assert status(taken) == 200 and status(run.entries("attacker-me")[0]) == 200
    rotated = "refresh_token" in json.loads(taken.exchange.response.body)
    assert rotated == (variant == "defended")
    page = victim.post(lab_server(f"/labs/refresh-replay/{variant}/recheck"),
                       data={"csrf_token": form_token(signed_in)})
    refresh = run.entries("refresh")[0]
    assert f"refresh_token={stolen}" in refresh.exchange.request.body
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
        assert "code=" in token.request.body
        assert run.attacker["code"] in token.request.body
        assert "Attack succeeded" in landed.text
        assert run.attacker["code"] in requests.get(attacker_page).text
    else:
        assert run.entries("token") == [] and "code" not in run.attacker
        assert "Attack failed" in landed.text and "iss names another" in landed.text
