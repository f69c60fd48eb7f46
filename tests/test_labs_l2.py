"""Attack labs "forced-linking" and "token-injection" over HTTP: each attack
succeeds against the lab's weak configuration and fails against the defence,
judged on the captured messages; an unexpected learner path decides nothing."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flowlab.core.demo import demo_apps
from flowlab.labs.client import credentials
from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import decide
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

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


def me_of(entry) -> dict:
    return json.loads(entry.exchange.response.body)


# -- forced-linking -------------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_forced_linking(lab_server, variant):
    victim = requests.Session()  # Alice, signed in to GigBoard with her password
    attacker_page = start(victim, lab_server, "forced-linking", variant)
    run = run_of(lab_server, attacker_page)
    asked = run.entries("attacker-authorize")[0].exchange.request.start_line
    # The vulnerable linking flow sends no state at all; the defended one does.
    assert ("state=" in asked) == (variant == "defended")
    link = bait(attacker_page)
    assert link.startswith(lab_server("/labs/forced-linking/")) and "code=" in link
    page = victim.get(link)
    callback = run.entries("callback")[0].exchange.request.start_line
    assert parse_qs(urlsplit(link).query)["code"][0] in callback
    if variant == "vulnerable":
        assert status(run.entries("token")[0]) == 200
        assert me_of(run.entries("me")[0])["id"] == "bob"
        assert "Attack succeeded" in page.text and "Bob Okafor" in page.text
        # Bob signs in to GigBoard with his own sandbox account: Alice's account opens.
        loot = requests.Session()
        shown = loot.get(attacker_page)
        answer = loot.post(attacker_page, data={"csrf_token": form_token(shown)})
        assert status(run.entries("attacker-token")[0]) == 200
        assert me_of(run.entries("attacker-me")[0])["id"] == "bob"
        assert "Alice&#39;s GigBoard account" in answer.text
    else:
        assert run.entries("token") == [] and run.entries("me") == []
        assert "Attack failed" in page.text
    assert verdict(victim, lab_server, "forced-linking", variant) == (
        "succeeded" if variant == "vulnerable" else "failed")


def test_forced_linking_own_link_decides_nothing(lab_server):
    """Alice links her own sandbox account: a link, but not the attacker's; then the
    attacker's forged callback still decides the run."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "forced-linking", "vulnerable")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "forced-linking", "vulnerable", "alice")
    assert me_of(run.entries("me")[0])["id"] == "alice"
    assert verdict(victim, lab_server, "forced-linking", "vulnerable") == "undecided"
    victim.get(bait(attacker_page))
    assert verdict(victim, lab_server, "forced-linking", "vulnerable") == "succeeded"


def test_forced_linking_defended_own_linking_then_forged(lab_server):
    """Alice starts linking herself (a state waits), then follows the attacker's
    link: its state is Bob's, refused; a cancelled sign-in decides nothing."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "forced-linking", "defended")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "forced-linking", "defended", "alice", "cancel")
    assert verdict(victim, lab_server, "forced-linking", "defended") == "undecided"
    victim.get(lab_server("/labs/forced-linking/defended/login"))  # a state waits
    victim.get(bait(attacker_page))
    assert run.entries("token") == []
    assert verdict(victim, lab_server, "forced-linking", "defended") == "failed"


# -- token-injection ------------------------------------------------------------

TI = "token-injection"


def implicit_sign_in(browser: requests.Session, server, variant: str, user: str):
    """Sign in through StageDoor's implicit grant; return the sign-in page and the
    access token the sandbox put in its fragment (what the page's script reads)."""
    login = browser.get(server(f"/labs/{TI}/{variant}/login"), allow_redirects=False)
    assert "response_type=token" in login.headers["Location"]
    landed = decide(browser, server, browser.get(login.headers["Location"]), user)
    player = next(hop.headers["Location"] for hop in landed.history
                  if "/callback" in hop.headers.get("Location", ""))
    token = parse_qs(urlsplit(player).fragment)["access_token"][0]
    return landed, token


def post_sign_in(browser, server, variant: str, page, email: str, username: str,
                 token: str):
    """What StageDoor's page script posts to its server: the user and the token."""
    return browser.post(server(f"/labs/{TI}/{variant}/callback"), data={
        "csrf_token": form_token(page), "email": email, "username": username,
        "token": token})


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_token_injection(lab_server, variant):
    bob = requests.Session()  # the learner plays Bob, the attacker
    attacker_page = start(bob, lab_server, TI, variant)
    run = run_of(lab_server, attacker_page)
    page, token = implicit_sign_in(bob, lab_server, variant, "bob")
    assert 'action="/labs/token-injection/' in page.text  # the page's own form
    first = post_sign_in(bob, lab_server, variant, page, "bob@example.org", "bob",
                         token)
    assert "bob@example.org" in first.text
    assert verdict(bob, lab_server, TI, variant) == "undecided"
    # The edit-and-resend form offers the request the browser sent.
    assert f'value="{token}"' in first.text
    posted = post_sign_in(bob, lab_server, variant, first, "alice@example.org",
                          "alice", token)
    forged = run.entries("sign-in")[-1]
    assert "email=alice%40example.org" in forged.exchange.request.text
    assert "csrf_token" not in forged.exchange.request.text
    answer = me_of(forged)
    if variant == "vulnerable":
        assert answer["signed_in"] == "alice@example.org"
        assert run.entries("me") == [] and run.entries("introspect") == []
        assert "Attack succeeded" in posted.text
    else:
        assert answer["signed_in"] == "bob@example.org"
        introspect = run.entries("introspect")[-1]
        assert status(introspect) == 200 and me_of(introspect)["active"] is True
        assert me_of(run.entries("me")[-1])["id"] == "bob"
        assert "Attack failed" in posted.text


def test_token_injection_defended_refuses_another_clients_token(lab_server, http):
    """A token the sandbox issued to another client is not StageDoor's: the
    defended server's introspection says inactive, and it signs nobody in; that
    refusal alone decides nothing."""
    web = demo_apps(lab_server.app.config)[0]
    other = http.post(lab_server("/sandbox/api/token"), auth=(
        web.client_id, web.client_secret), data={"grant_type": "client_credentials"})
    assert other.status_code == 200
    bob = requests.Session()
    run = run_of(lab_server, start(bob, lab_server, TI, "defended"))
    page, _ = implicit_sign_in(bob, lab_server, "defended", "bob")
    posted = post_sign_in(bob, lab_server, "defended", page, "alice@example.org",
                          "alice", other.json()["access_token"])
    assert me_of(run.entries("introspect")[0])["active"] is False
    assert run.entries("me") == []
    assert me_of(run.entries("sign-in")[0])["signed_in"] is None
    assert "Attack succeeded" not in posted.text
    assert verdict(bob, lab_server, TI, "defended") == "undecided"


def test_token_injection_unexpected_paths(lab_server):
    """A cancelled sign-in, the same request sent again unchanged, a made-up token:
    none is an injection the wire can judge."""
    bob = requests.Session()
    run = run_of(lab_server, start(bob, lab_server, TI, "vulnerable"))
    sign_in(bob, lab_server, TI, "vulnerable", "bob", "cancel")
    assert verdict(bob, lab_server, TI, "vulnerable") == "undecided"
    page, token = implicit_sign_in(bob, lab_server, "vulnerable", "bob")
    for _ in range(2):
        page = post_sign_in(bob, lab_server, "vulnerable", page, "bob@example.org",
                            "bob", token)
    post_sign_in(bob, lab_server, "vulnerable", page, "alice@example.org", "alice",
                 "made-up")
    assert len(run.entries("sign-in")) == 3
    assert verdict(bob, lab_server, TI, "vulnerable") == "undecided"


# -- proxy-page -----------------------------------------------------------------

PP = "proxy-page"
EXPLOIT = re.compile(r'id="proxy-bait" href="([^"]+)"')


def exploit_link(attacker_page: str) -> str:
    """The crafted authorization request on the attacker's exploit page."""
    exploit = requests.get(attacker_page.split("/labs/", 1)[0] + bait(attacker_page))
    assert exploit.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    return html.unescape(EXPLOIT.search(exploit.text).group(1))


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_proxy_page(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, PP, variant)
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, PP, variant, "alice")  # the sandbox remembers Alice
    crafted = exploit_link(attacker_page)
    assert "redirect_uri=" in crafted and "%2Fcallback%2F..%2Fpage%2Fproxy" in crafted
    assert "response_type=token" in crafted
    answer = run.entries("crafted-answer")[0]
    page = victim.get(crafted, allow_redirects=False)
    if variant == "vulnerable":
        assert status(answer) in (200, 302)
        assert page.status_code == 302
        where = page.headers["Location"]
        assert "/callback/../page/proxy#access_token=" in where
        assert page.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
        proxy = victim.get(where.split("#", 1)[0])
        assert proxy.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
        assert 'data-target-origin="*"' in proxy.text
        # What the proxy page's script posts, as the attacker's page forwards it.
        requests.post(attacker_page + "/as/collect", data={"href": where})
        assert "access_token%3D" in run.entries("leak")[0].exchange.request.text
        assert me_of(run.entries("attacker-me")[0])["id"] == "alice"
    else:
        assert status(answer) == 400
        assert page.status_code == 400 and "Invalid redirect URI" in page.text
        proxy = victim.get(lab_server(f"/labs/{PP}/defended/page/proxy"))
        assert f'data-target-origin="{lab_server("").rstrip("/")}"' in proxy.text
        assert run.entries("leak") == []
    assert verdict(victim, lab_server, PP, variant) == (
        "succeeded" if variant == "vulnerable" else "failed")


def test_proxy_page_leak_without_a_token_decides_nothing(lab_server):
    """The proxy page opened before any sign-in posts an address with no token:
    nothing to judge; the sandbox's own issuers still refuse the traversal."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, PP, "vulnerable")
    run = run_of(lab_server, attacker_page)
    requests.post(attacker_page + "/as/collect", data={
        "href": lab_server(f"/labs/{PP}/vulnerable/page/proxy")})
    assert run.entries("attacker-me") == []
    assert verdict(victim, lab_server, PP, "vulnerable") == "undecided"
    crafted = exploit_link(attacker_page)
    for path in ("/sandbox/authorize", "/sandbox/best-practice/authorize"):
        query = crafted.split("?", 1)[1]
        refused = requests.get(lab_server(path) + "?" + query, allow_redirects=False)
        assert refused.status_code == 400 and "Invalid redirect URI" in refused.text


def test_proxy_page_switches_stay_on_its_issuer(lab_server, http):
    """The prefix matching and the opener policy are the lab issuer's alone: the
    sandbox's authorize pages, and another lab's issuer, keep COOP same-origin; no
    issuer's metadata names the lab; the lab issuer serves only its own clients."""
    own, _ = credentials(lab_server.app.config, PP, "vulnerable")
    web = demo_apps(lab_server.app.config)[0]
    asked = {"response_type": "token", "client_id": own, "scope": "user-read-email",
             "redirect_uri": lab_server(f"/labs/{PP}/vulnerable/callback/../x")}
    lab = http.get(lab_server(f"/sandbox/lab-{PP}/authorize"), params=asked,
                   allow_redirects=False)
    assert lab.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    for path in ("/sandbox", "/sandbox/best-practice", "/sandbox/lab-redirect-uri"):
        page = http.get(lab_server(path + "/authorize"), params=asked,
                        allow_redirects=False)
        assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert page.status_code == 400, path
    for path in ("/sandbox", "/sandbox/best-practice"):
        meta = http.get(lab_server("/.well-known/oauth-authorization-server" + path))
        assert "lab-" not in meta.text
    other = http.get(lab_server(f"/sandbox/lab-{PP}/authorize"), params={
        **asked, "client_id": web.client_id,
        "redirect_uri": web.redirect_uris[0] + "/../x"})
    assert other.status_code == 400 and "Only this lab" in other.text
