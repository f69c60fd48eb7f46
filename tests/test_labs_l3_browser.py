"""Attack labs 16-17 in Chromium (device-code phishing, consent clickjacking): played
as a learner plays them, the attack succeeds against the weak issuer and fails
against the defence, judged on the captured messages; pages pass axe."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from flowlab.serving import stop
from flowlab.web import attacker
from tests.a11y import serious_violations
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import run_of
from tests.labs_helpers import status

pytestmark = pytest.mark.browser
ATTACKER = "http://127.0.0.2:*/**"
DEVICE = "device-code-phishing"
POLL = "Poll the token endpoint with the device code"


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def start(page, server, lab: str, variant: str):
    """Open the run page, check it with axe, start a run: the run, and the
    attacker's page's URL."""
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_selector("#trace")
    href = page.get_by_role("link", name="Open the attacker's page").first \
        .get_attribute("href")
    return run_of(server, href), href


def verdict(page, server, lab: str, variant: str) -> str:
    page.goto(server(f"/labs/{lab}/{variant}"))
    page.wait_for_selector("#verdict")
    assert serious_violations(page) == []
    return page.locator("#verdict").inner_text()


def follow_the_lure(page, attacker_page: str) -> None:
    """As Alice: the lure's link, the code (filled in), the sign-in."""
    page.goto(attacker_page)
    assert serious_violations(page) == []
    page.locator("#bait").click()
    expect(page.get_by_label("Code")).not_to_have_value("")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_device_code_phishing_in_chromium(page, lab_server, variant):
    run, attacker_page = start(page, lab_server, DEVICE, variant)
    follow_the_lure(page, attacker_page)
    assert serious_violations(page) == []
    if variant == "vulnerable":
        expect(page.get_by_role("heading", level=1)).to_have_text("Approve device?")
        page.get_by_role("button", name="Agree").click()
    else:
        expect(page.get_by_role("heading", name="Did you start this on a device "
                                "you own?")).to_be_visible()
        expect(page.locator(".device-context")).to_contain_text("127.0.0.1")
        expect(page.locator(".device-context")).to_contain_text("PlaylistPal TV")
        page.get_by_role("button", name="Cancel").click()
    page.goto(attacker_page)
    page.get_by_role("button", name=POLL).click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    polled = run.entries("attacker-poll")[0]
    said = verdict(page, lab_server, DEVICE, variant)
    if variant == "vulnerable":
        assert status(polled) == 200
        assert said.startswith("Attack succeeded")
        page.goto(attacker_page)
        expect(page.locator("#loot")).to_contain_text("Alice Lindqvist")
    else:
        assert json.loads(polled.exchange.response.body)["error"] == "access_denied"
        assert said.startswith("Attack failed")


def test_device_code_phishing_polled_before_alice_answers(page, lab_server):
    """The attacker polls before Alice has answered, then she leaves the approval
    page unanswered: pending decides nothing."""
    run, attacker_page = start(page, lab_server, DEVICE, "vulnerable")
    page.goto(attacker_page)
    page.get_by_role("button", name=POLL).click()
    page.wait_for_url(ATTACKER)
    follow_the_lure(page, attacker_page)
    page.go_back()
    assert json.loads(run.entries("attacker-poll")[0].exchange.response.body)[
        "error"] == "authorization_pending"
    assert verdict(page, lab_server, DEVICE, "vulnerable").startswith(
        "Not decided yet")


@pytest.mark.only_reads
def test_l3_lab_pages_pass_axe(page, lab_server):
    for lab in (DEVICE,):
        page.goto(lab_server(f"/labs/{lab}"))
        assert serious_violations(page) == []
