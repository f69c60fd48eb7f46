"""Attack labs 3-7 in Chromium: the attack succeeds against the weak configuration
and fails against the defence, judged on the captured messages; pages pass axe."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from flowlab.web.session import services
from tests.a11y import serious_violations
from tests.labs_helpers import run_of
from tests.labs_helpers import start as start_http
from tests.labs_helpers import status

pytestmark = pytest.mark.browser
ATTACKER = "http://127.0.0.2:*/**"


def start(page, server, lab: str, variant: str):
    """Open the run page, check it with axe, start a run; the run from the store."""
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_selector("#trace")
    href = page.get_by_role("link", name="Open the attacker's page").get_attribute(
        "href")
    return run_of(server, href)


def verdict(page, server, lab: str, variant: str) -> str:
    page.wait_for_url(server(f"/labs/{lab}/{variant}") + "*")
    page.wait_for_selector("#verdict:not([data-verdict=undecided])")
    assert serious_violations(page) == []
    return page.locator("#verdict").inner_text()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_injection_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "code-injection", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.wait_for_url("**/sandbox/authorize?**")  # stop there, as the attacker
    page.go_back()
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Finish my sign-in with Alice's code").click()
    said = verdict(page, labs_site, "code-injection", variant)
    token = run.entries("token")[0]
    assert f"code={run.attacker['stolen']}" in token.exchange.request.text
    if variant == "vulnerable":
        assert status(token) == 200
        assert page.locator("#linked").inner_text() == "Alice Lindqvist"
        assert said.startswith("Attack succeeded")
    else:
        assert status(token) == 400
        assert json.loads(token.exchange.response.body)["error"] == "invalid_grant"
        assert page.locator("#linked").inner_text() == "none"
        assert said.startswith("Attack failed")


def sign_in_as_alice(page) -> None:
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_refresh_replay_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "refresh-replay", variant)
    sign_in_as_alice(page)
    page.wait_for_url(labs_site("/labs/refresh-replay/") + "*")
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url(ATTACKER)
    page.get_by_role("button", name="Refresh with the stolen token").click()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the lab").click()
    page.get_by_role("button", name="Refresh TrackTally's token").click()
    said = verdict(page, labs_site, "refresh-replay", variant)
    stolen = json.loads(run.entries("token")[0].exchange.response.body)[
        "refresh_token"]
    refresh = run.entries("refresh")[0]
    assert f"refresh_token={stolen}" in refresh.exchange.request.text
    assert status(run.entries("attacker-refresh")[0]) == 200
    if variant == "vulnerable":
        assert status(refresh) == 200
        assert status(run.entries("attacker-check")[0]) == 200
        assert said.startswith("Attack succeeded")
    else:
        assert "/sandbox/best-practice/" in refresh.exchange.url
        assert status(refresh) == 400
        assert status(run.entries("attacker-check")[0]) == 401
        assert said.startswith("Attack failed")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_mix_up_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "mix-up", variant)
    page.get_by_role("link", name="Sign in with Rival Music").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    said = verdict(page, labs_site, "mix-up", variant)
    # The browser went through the attacker's server to the sandbox and back.
    forwarded = run.entries("rival-authorize")[0].exchange.request
    assert forwarded.header("Host").startswith("127.0.0.2:")
    assert "iss=" in run.entries("callback")[0].exchange.request.start_line
    if variant == "vulnerable":
        token = run.entries("token")[0].exchange
        assert token.url.startswith("http://127.0.0.2:")
        assert "code=" in token.request.text
        assert said.startswith("Attack succeeded")
    else:
        assert run.entries("token") == []
        assert "iss names another server" in page.locator("#refused").inner_text()
        assert said.startswith("Attack failed")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_redirect_uri_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "redirect-uri", variant)
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Sign in to TrackTally").click()
    crafted = run.entries("crafted")[0].exchange.response.header("Location")
    assert "redirect_uri=http%3A%2F%2F127.0.0.2%3A" in crafted
    if variant == "vulnerable":
        page.get_by_role("button", name="Continue as Alice Lindqvist").click()
        page.get_by_role("button", name="Agree").click()
        page.wait_for_url(ATTACKER)
        assert page.get_by_role("heading", name="Alice's code arrived here").count()
        assert "code=" in run.entries("intercepted")[0].exchange.request.start_line
        assert status(run.entries("attacker-token")[0]) == 200
    else:
        assert "Invalid redirect URI" in page.content()
        assert run.entries("intercepted") == []
    page.goto(labs_site(f"/labs/redirect-uri/{variant}"))
    said = verdict(page, labs_site, "redirect-uri", variant)
    assert said.startswith("Attack succeeded" if variant == "vulnerable"
                           else "Attack failed")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_implicit_leak_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "implicit-leak", variant)
    with page.expect_request("http://127.0.0.2:*/**/as/collect?**") as beacon:
        sign_in_as_alice(page)
    page.wait_for_selector("#player")
    assert serious_violations(page) == []
    beacon.value.response()  # the attacker's collector has answered
    leak = run.entries("leak")[0].exchange.request.start_line
    if variant == "vulnerable":
        assert "access_token%3D" in leak  # the fragment, read by the script
        assert status(run.entries("attacker-me")[0]) == 200
        expect(page.locator("#player")).to_contain_text("Alice Lindqvist")
        # Token injection: the attacker's link opens the player with Alice's token.
        page.goto(labs_site("/labs/implicit-leak/vulnerable"))
        page.get_by_role("link", name="Open the attacker's page").click()
        page.get_by_role("link", name="Open the player with Alice's token").click()
        expect(page.locator("#player")).to_contain_text("Alice Lindqvist")
    else:
        assert "access_token" not in leak and "code" not in leak
        assert run.entries("attacker-me") == []
    page.goto(labs_site(f"/labs/implicit-leak/{variant}"))
    said = verdict(page, labs_site, "implicit-leak", variant)
    assert said.startswith("Attack succeeded" if variant == "vulnerable"
                           else "Attack failed")


@pytest.mark.only_reads
def test_new_lab_pages_pass_axe(page, labs_site):
    for lab in ("code-injection", "redirect-uri", "implicit-leak", "refresh-replay",
                "mix-up"):
        page.goto(labs_site(f"/labs/{lab}"))
        assert serious_violations(page) == []


def test_every_attacker_page_loads_cleanly(chromium, labs_site):
    """Every lab's attacker page (127.0.0.2), in both variants: no failed request,
    no error status, no console error, axe clean. Its own browser context, which
    records every failed request and error status, the icon's included (Chromium
    asks for it after the load)."""
    context = chromium.new_context()
    page = context.new_page()
    failed, errors, hosts = [], [], set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: response.status >= 400
            and failed.append(f"{response.status} {response.url}"))
    page.on("console", lambda msg: msg.type == "error" and errors.append(
        f"{msg.text} {msg.location.get('url')}"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for lab in services(labs_site.app).labs.catalogue:
            for variant in ("vulnerable", "defended"):
                url = start_http(requests.Session(), labs_site, lab, variant)
                page.goto(url)
                page.wait_for_timeout(300)  # the icon is fetched after the load
                expect(page.get_by_role("link", name="Back to the lab")).to_be_visible()
                assert serious_violations(page) == []
                assert failed == [] and errors == [], (lab, variant, failed, errors)
        assert hosts == {"127.0.0.2"}
    finally:
        context.close()


def test_presenter_view_follows_a_lab_run(page, labs_site):
    """The presenter's second screen shows the lab's speaker notes and reloads when
    a message goes over the wire; the lab page shows no notes."""
    start(page, labs_site, "code-interception", "vulnerable")
    notes = page.context.new_page()
    notes.goto(labs_site("/presenter"))
    expect(notes.get_by_role("heading", name="Speaker notes")).to_be_visible()
    expect(notes.locator("#presenter-verdict")).to_have_attribute(
        "data-verdict", "undecided")
    assert serious_violations(notes) == []
    assert "Point at" not in page.content()
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(ATTACKER)
    expect(notes.locator("#presenter-verdict")).to_have_attribute(
        "data-verdict", "succeeded", timeout=10_000)
    notes.close()
