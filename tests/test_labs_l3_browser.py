"""Attack labs 16-17 in Chromium (device-code phishing, consent clickjacking): played
as a learner plays them, the attack succeeds against the weak issuer and fails
against the defence, judged on the captured messages; pages pass axe."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.labs_helpers import run_of
from tests.labs_helpers import status

pytestmark = pytest.mark.browser
ATTACKER = "http://127.0.0.2:*/**"
DEVICE = "device-code-phishing"
POLL = "Poll the token endpoint with the device code"
CLICKJACKING = "consent-clickjacking"
REGISTRATION = "registration-abuse"
CALLBACK = "http://127.0.0.2:*/labs/consent-clickjacking/*/callback?*"


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
def test_device_code_phishing_in_chromium(page, labs_site, variant):
    run, attacker_page = start(page, labs_site, DEVICE, variant)
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
    said = verdict(page, labs_site, DEVICE, variant)
    if variant == "vulnerable":
        assert status(polled) == 200
        assert said.startswith("Attack succeeded")
        page.goto(attacker_page)
        expect(page.locator("#loot")).to_contain_text("Alice Lindqvist")
    else:
        assert json.loads(polled.exchange.response.body)["error"] == "access_denied"
        assert said.startswith("Attack failed")


def test_device_code_phishing_polled_before_alice_answers(page, labs_site):
    """The attacker polls before Alice has answered, then she leaves the approval
    page unanswered: pending decides nothing."""
    run, attacker_page = start(page, labs_site, DEVICE, "vulnerable")
    page.goto(attacker_page)
    page.get_by_role("button", name=POLL).click()
    page.wait_for_url(ATTACKER)
    follow_the_lure(page, attacker_page)
    page.go_back()
    assert json.loads(run.entries("attacker-poll")[0].exchange.response.body)[
        "error"] == "authorization_pending"
    assert verdict(page, labs_site, DEVICE, "vulnerable").startswith(
        "Not decided yet")


@pytest.mark.only_reads
def test_l3_lab_pages_pass_axe(page, labs_site):
    for lab in (DEVICE, CLICKJACKING, REGISTRATION):
        page.goto(labs_site(f"/labs/{lab}"))
        assert serious_violations(page) == []


def refuse_plainly(page) -> None:
    """Step 2: Alice signs in and cancels PrizeDraw's request, shown plainly."""
    page.get_by_role("link", name="Sign in to the sandbox as Alice").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PrizeDraw")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []


def said_by_chromium(page, words: str) -> list[str]:
    """Console errors that are the test's expected outcome (a frame refused, an
    autofocus in a framed page ignored), taken out of the page's list."""
    found = [e for e in page.console_errors if words in e]
    page.console_errors[:] = [e for e in page.console_errors if e not in found]
    return found


def click_the_prize(page) -> None:
    """The victim's click, where the bait is drawn (the frame lies over it)."""
    bait = page.locator(".decoy-bait .button")
    bait.scroll_into_view_if_needed()
    box = bait.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_consent_clickjacking_in_chromium(page, labs_site, variant):
    run, attacker_page = start(page, labs_site, CLICKJACKING, variant)
    refuse_plainly(page)
    page.get_by_role("link", name="Open the prize page").click()
    page.wait_for_load_state("load")
    assert page.url.startswith("http://127.0.0.1:")
    assert not page.url.startswith(labs_site(""))
    framed = page.frame_locator("#framed")
    if variant == "vulnerable":
        agree = framed.get_by_role("button", name="Agree")
        expect(agree).to_be_visible()  # to Playwright; at 0.01% opacity to Alice
        assert serious_violations(page) == []
        with page.expect_response(CALLBACK) as arrived:
            click_the_prize(page)
        assert arrived.value.status == 204  # the frame stays as it was
        said = verdict(page, labs_site, CLICKJACKING, variant)
        callback = run.entries("intercepted")[-1].exchange.request
        assert callback.header("Sec-Fetch-Dest") == "iframe"
        assert "code=" in callback.start_line
        assert status(run.entries("attacker-token")[0]) == 200
        assert said.startswith("Attack succeeded")
        page.goto(attacker_page)
        expect(page.locator("pre")).to_have_text("Alice Lindqvist")
        # The framed page's Agree has autofocus, which Chromium ignores in a frame
        # from another origin, and says so.
        assert said_by_chromium(page, "Blocked autofocusing")
    else:
        assert said_by_chromium(page, "frame-ancestors"), "no frame refused"
        assert framed.get_by_role("button", name="Agree").count() == 0
        click_the_prize(page)
        said = verdict(page, labs_site, CLICKJACKING, variant)
        assert [e for e in run.entries("intercepted")
                if "code=" in e.exchange.request.start_line] == []
        assert said.startswith("Attack failed")


def test_consent_clickjacking_reveal_and_knowing_consent(page, labs_site):
    """The reveal box shows the hidden frame; a learner who then opens the consent
    page itself and agrees knowingly decides nothing."""
    run, _ = start(page, labs_site, CLICKJACKING, "vulnerable")
    refuse_plainly(page)
    page.get_by_role("link", name="Open the prize page").click()
    page.get_by_label("Show the page hidden over the button").check()
    expect(page.locator("#framed")).to_have_css("opacity", "0.6")
    assert serious_violations(page) == []
    for width, height in ((390, 844), (1440, 900)):  # the decoy fits either
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(page.locator("#framed").get_attribute("src"))
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(ATTACKER)
    assert "code=" in run.entries("intercepted")[-1].exchange.request.start_line
    assert verdict(page, labs_site, CLICKJACKING, "vulnerable").startswith(
        "Not decided yet")
    said_by_chromium(page, "Blocked autofocusing")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_registration_abuse_in_chromium(page, labs_site, variant):
    run, attacker_page = start(page, labs_site, REGISTRATION, variant)
    page.goto(attacker_page)
    assert serious_violations(page) == []
    expect(page.locator("pre")).to_contain_text('"logo_uri": "http://127.0.0.1:')
    page.get_by_role("button", name="Register “PlaylistPal”").click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    secret = run.attacker["internal_secret"]
    answer = page.locator("pre")
    if variant == "vulnerable":
        expect(answer).to_contain_text(f"DATABASE_PASSWORD={secret}")
    else:
        expect(answer).to_contain_text('"client_name": "PlaylistPal"')
        expect(answer).not_to_contain_text("DATABASE_PASSWORD")
        # Registered, nobody answered yet: no verdict (an unexpected stop).
        assert verdict(page, labs_site, REGISTRATION, variant).startswith(
            "Not decided yet")
        page.goto(attacker_page)
    page.get_by_role("link", name="Sign in to PlaylistPal").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PlaylistPal")
    assert serious_violations(page) == []
    if variant == "vulnerable":
        expect(page.locator("#unverified")).to_have_count(0)
        page.get_by_role("button", name="Agree").click()
    else:
        expect(page.locator("#unverified")).to_contain_text("127.0.0.2")
        expect(page.locator("#unverified")).to_contain_text("not verified")
        page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(ATTACKER)
    said = verdict(page, labs_site, REGISTRATION, variant)
    if variant == "vulnerable":
        assert status(run.entries("attacker-token")[0]) == 200
        assert said.startswith("Attack succeeded")
    else:
        assert run.entries("internal") == [] and run.entries("attacker-token") == []
        assert said.startswith("Attack failed")
