"""Attack labs "pkce-downgrade", "scope-upgrade" and "open-redirect" in Chromium,
played as a learner would: the attack succeeds against the lab issuer's weak
switch and fails against the sandbox's issuers, the verdict on the page; an
unexpected path gives no false verdict; the pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.labs_helpers import run_of
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


def verdict(page, server, lab: str, variant: str) -> tuple[str, str]:
    """Back at the run page: the verdict's state and its words; axe clean."""
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    shown = page.locator("#verdict")
    return shown.get_attribute("data-verdict"), shown.inner_text()


def on_attacker_page(page) -> None:
    page.wait_for_url(ATTACKER)
    expect(page.get_by_role("link", name="Back to the lab")).to_be_visible()
    assert serious_violations(page) == []


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_pkce_downgrade_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "pkce-downgrade", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    if variant == "vulnerable":
        page.get_by_role("button", name="Agree").click()
    else:  # no consent asked: the sandbox says it is sending an error back
        expect(page.get_by_role("heading", level=1)).to_have_text("Leave the sandbox?")
        page.get_by_role("button", name="Continue to the app").click()
    on_attacker_page(page)
    forwarded = run.entries("downgraded")[0].exchange.response.header("Location")
    assert "code_challenge" not in forwarded
    state, said = verdict(page, labs_site, "pkce-downgrade", variant)
    if variant == "vulnerable":
        assert status(run.entries("attacker-token")[0]) == 200
        assert state == "succeeded" and said.startswith("Attack succeeded")
    else:
        assert run.entries("attacker-token") == []
        assert "error=invalid_request" in run.entries("intercepted")[0].exchange \
            .request.start_line
        assert state == "failed" and said.startswith("Attack failed")


def test_pkce_downgrade_cancelled_in_chromium(page, labs_site):
    """Bob cancels at the consent page: the other app gets an error, no code, and
    the run says nothing is decided yet."""
    run = start(page, labs_site, "pkce-downgrade", "vulnerable")
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Bob Okafor").click()
    page.get_by_role("button", name="Cancel").click()
    on_attacker_page(page)
    expect(page.get_by_role("heading", name="Nothing caught yet")).to_be_visible()
    assert run.entries("attacker-token") == []
    state, said = verdict(page, labs_site, "pkce-downgrade", "vulnerable")
    assert state == "undecided" and said.startswith("Not decided yet")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_scope_upgrade_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "scope-upgrade", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(labs_site("/labs/scope-upgrade/") + "*")
    page.get_by_role("link", name="Open the attacker's page").click()
    on_attacker_page(page)
    page.get_by_role("button", name="Refresh with playlist-read-private added").click()
    on_attacker_page(page)
    taken = run.entries("attacker-refresh")[0]
    assert "playlist-read-private" in taken.exchange.request.text
    state, said = verdict(page, labs_site, "scope-upgrade", variant)
    if variant == "vulnerable":
        assert status(taken) == 200
        assert status(run.entries("attacker-playlists")[0]) == 200
        assert state == "succeeded" and said.startswith("Attack succeeded")
    else:
        assert status(taken) == 400 and "invalid_scope" in taken.exchange.response \
            .text
        assert state == "failed" and said.startswith("Attack failed")


def test_scope_upgrade_attacker_first_in_chromium(page, labs_site):
    """The attacker's page before Alice signed in: nothing to steal, no button,
    nothing sent, nothing decided."""
    run = start(page, labs_site, "scope-upgrade", "defended")
    page.get_by_role("link", name="Open the attacker's page").click()
    on_attacker_page(page)
    expect(page.get_by_role("heading", name="Nothing to steal yet")).to_be_visible()
    assert page.get_by_role("button").count() == 0
    assert run.entries("attacker-refresh") == []
    state, _ = verdict(page, labs_site, "scope-upgrade", "defended")
    assert state == "undecided"


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_open_redirect_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "open-redirect", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(labs_site("/labs/open-redirect/") + "*")
    page.get_by_role("link", name="Open the attacker's page").click()
    on_attacker_page(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Sign in to PlaylistPal").click()
    if variant == "vulnerable":  # no page on the way: redirects all through
        on_attacker_page(page)
        expect(page.get_by_role("heading", name="Alice's code arrived here")) \
            .to_be_visible()
        hop = run.entries("redirector")[0].exchange
        assert "/labs/open-redirect/vulnerable/page/go?" in hop.request.start_line
        assert "code=" in hop.response.header("Location")
        assert status(run.entries("attacker-token")[0]) == 200
    else:
        expect(page.get_by_text("Invalid redirect URI")).to_be_visible()
        assert serious_violations(page) == []
        assert run.entries("redirector") == [] and run.entries("intercepted") == []
    state, said = verdict(page, labs_site, "open-redirect", variant)
    if variant == "vulnerable":
        assert state == "succeeded" and said.startswith("Attack succeeded")
    else:
        assert state == "failed" and said.startswith("Attack failed")


def test_open_redirect_bait_first_in_chromium(page, labs_site):
    """The bait followed before signing in: the lab issuer's sign-in page; back to
    the lab from there, nothing is decided (the request was accepted, no code
    sent)."""
    run = start(page, labs_site, "open-redirect", "vulnerable")
    page.get_by_role("link", name="Open the attacker's page").click()
    page.get_by_role("link", name="Sign in to PlaylistPal").click()
    expect(page.get_by_role("button", name="Continue as Bob Okafor")).to_be_visible()
    assert "/sandbox/lab-open-redirect/authorize?" in page.url
    assert run.entries("redirector") == [] and run.entries("intercepted") == []
    state, said = verdict(page, labs_site, "open-redirect", "vulnerable")
    assert state == "undecided" and said.startswith("Not decided yet")


@pytest.mark.only_reads
def test_these_lab_pages_pass_axe(page, labs_site):
    for lab in ("pkce-downgrade", "scope-upgrade", "open-redirect"):
        page.goto(labs_site(f"/labs/{lab}"))
        assert serious_violations(page) == []
