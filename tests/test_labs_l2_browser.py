"""Attack labs "forced-linking" and "token-injection" in Chromium, played as a
learner would: the attack succeeds against the weak configuration and fails
against the defence, judged on the captured messages; pages pass axe; an
unexpected path gives no false verdict."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

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
    href = page.get_by_role("link", name="Open the attacker's page").first \
        .get_attribute("href")
    return run_of(server, href)


def verdict(page, server, lab: str, variant: str) -> str:
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    return page.locator("#verdict").inner_text()


def me_of(entry) -> dict:
    return json.loads(entry.exchange.response.body)


@pytest.mark.only_reads
def test_l2_lab_pages_pass_axe(page, labs_site):
    for lab in ("proxy-page", "forced-linking", "token-injection"):
        assert page.goto(labs_site(f"/labs/{lab}")).status == 200
        assert serious_violations(page) == []
    page.goto(labs_site("/labs/?level=practitioner"))
    expect(page.get_by_role("link", name="Forced OAuth profile linking")) \
        .to_be_visible()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_forced_linking_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "forced-linking", variant)
    page.get_by_role("link", name="Open the attacker's page").first.click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Claim your free festival ticket").click()
    page.wait_for_url(labs_site(f"/labs/forced-linking/{variant}") + "*")
    callback = run.entries("callback")[0].exchange.request
    assert callback.header("Sec-Fetch-Site") == "cross-site"
    assert callback.header("Cookie")  # GigBoard's session came along
    if variant == "vulnerable":
        assert me_of(run.entries("me")[0])["id"] == "bob"
        assert page.locator("#linked").inner_text() == "Bob Okafor"
        page.get_by_role("link", name="Open the attacker's page").first.click()
        page.get_by_role("button", name="Sign in to GigBoard as Bob").click()
        expect(page.locator("pre")).to_have_text("Alice's GigBoard account")
        assert serious_violations(page) == []
        assert status(run.entries("attacker-token")[0]) == 200
        assert verdict(page, labs_site, "forced-linking", variant).startswith(
            "Attack succeeded")
    else:
        assert run.entries("token") == []
        assert page.locator("#linked").inner_text() == "none"
        assert verdict(page, labs_site, "forced-linking", variant).startswith(
            "Attack failed")


def test_forced_linking_back_reload_and_twice(page, labs_site):
    """Unexpected path: the attacker's page opened, then back and reload (no
    verdict, no sign-in for Bob yet); the bait followed twice: the second callback's
    code is spent, and the verdict stays what the first showed."""
    run = start(page, labs_site, "forced-linking", "vulnerable")
    page.get_by_role("link", name="Open the attacker's page").first.click()
    page.wait_for_url(ATTACKER)
    expect(page.get_by_role("button", name="Sign in to GigBoard as Bob")) \
        .to_have_count(0)
    bait = page.get_by_role("link", name="Claim your free festival ticket") \
        .get_attribute("href")
    page.go_back()
    page.reload()
    assert verdict(page, labs_site, "forced-linking", "vulnerable").startswith(
        "Not decided yet")
    page.goto(bait)
    page.goto(bait)
    tokens = run.entries("token")
    assert [status(t) for t in tokens] == [200, 400]
    assert verdict(page, labs_site, "forced-linking", "vulnerable").startswith(
        "Attack succeeded")


def sign_in_with_the_sandbox(page, server, lab: str, variant: str, user: str,
                             link: str = "Sign in with the sandbox") -> None:
    """Sign in through the lab client as ``user``, agreeing if the sandbox asks
    (it asks once per user and client, whatever the browser)."""
    page.get_by_role("link", name=link).click()
    page.get_by_role("button", name=f"Continue as {user}").click()
    back = re.compile(re.escape(server(f"/labs/{lab}/{variant}")) + "#")
    page.wait_for_url(re.compile(f"/sandbox/authorize|{back.pattern}"))
    if "/sandbox/authorize" in page.url:
        page.get_by_role("button", name="Agree").click()
    page.wait_for_url(back)


def sign_in_as_bob(page, server, variant: str) -> None:
    sign_in_with_the_sandbox(page, server, "token-injection", variant, "Bob Okafor",
                             "Sign in to StageDoor with the sandbox")
    expect(page.locator("#linked")).to_have_text("bob@example.org")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_token_injection_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "token-injection", variant)
    sign_in_as_bob(page, labs_site, variant)
    first = run.entries("sign-in")[0]
    assert "email=bob%40example.org" in first.exchange.request.text
    assert first.exchange.request.header("Sec-Fetch-Site") == "same-origin"
    token = parse_qs(first.exchange.request.text)["token"][0]
    page.get_by_role("link", name="Open the attacker's page").click()
    expect(page.get_by_text("alice@example.org")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the lab").click()
    assert serious_violations(page) == []  # the edit-and-resend form
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    email = page.get_by_label("email", exact=True)
    expect(email).to_have_value("bob@example.org")
    expect(page.get_by_label("token", exact=True)).to_have_value(token)
    email.fill("alice@example.org")
    page.get_by_role("button", name="Send the edited request").click()
    page.wait_for_url(labs_site("/labs/token-injection/") + "*")
    forged = run.entries("sign-in")[-1]
    assert parse_qs(forged.exchange.request.text)["token"] == [token]
    said = json.loads(forged.exchange.response.body)["signed_in"]
    if variant == "vulnerable":
        assert said == "alice@example.org"
        expect(page.locator("#linked")).to_have_text("alice@example.org")
        assert verdict(page, labs_site, "token-injection", variant).startswith(
            "Attack succeeded")
    else:
        assert said == "bob@example.org"
        assert json.loads(run.entries("me")[-1].exchange.response.body)["id"] == "bob"
        expect(page.locator("#linked")).to_have_text("bob@example.org")
        assert verdict(page, labs_site, "token-injection", variant).startswith(
            "Attack failed")


def test_token_injection_back_to_the_sign_in_page(page, labs_site):
    """Unexpected path: back to StageDoor's sign-in page after signing in. Its
    address no longer holds the token, so it posts nothing; no verdict."""
    run = start(page, labs_site, "token-injection", "vulnerable")
    sign_in_as_bob(page, labs_site, "vulnerable")
    page.go_back()
    expect(page.locator("#token-status")).to_have_text(
        "There is no token in this page's address.")
    assert serious_violations(page) == []
    assert len(run.entries("sign-in")) == 1
    assert verdict(page, labs_site, "token-injection", "vulnerable").startswith(
        "Not decided yet")


def open_the_exploit(page):
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url(ATTACKER)
    page.get_by_role("link", name="Open the live session").click()
    expect(page.get_by_role("heading", name="ShopSpin live session")).to_be_visible()
    assert serious_violations(page) == []
    with page.expect_popup() as opened:
        page.get_by_role("link", name="Join the live session").click()
    return opened.value


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_proxy_page_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "proxy-page", variant)
    sign_in_with_the_sandbox(page, labs_site, "proxy-page", variant,
                             "Alice Lindqvist")
    if variant == "vulnerable":
        with page.expect_request("**/as/collect") as heard:
            popup = open_the_exploit(page)
        heard.value.response()  # the attacker's server has answered
        expect(popup.locator("#proxy")).to_have_text(
            "Posted this page's address to the window that opened it.")
        assert popup.url.startswith(labs_site("/labs/proxy-page/vulnerable/page/"
                                               "proxy#access_token="))
        assert serious_violations(popup) == []
        expect(page.locator("#heard")).to_contain_text("access_token=")
        for shown in (page, popup):  # the long address heard, in a phone's width
            shown.set_viewport_size({"width": 390, "height": 844})
            assert shown.evaluate("document.documentElement.scrollWidth") <= 390
        leak = parse_qs(run.entries("leak")[0].exchange.request.text)
        assert leak["origin"] == [labs_site("").rstrip("/")]  # a real message
        assert me_of(run.entries("attacker-me")[0])["id"] == "alice"
        page.get_by_role("link", name="Back to the attacker's page").click()
        expect(page.get_by_role("heading", name="Alice's access token, posted by "
                                "ShopSpin's own page")).to_be_visible()
        assert serious_violations(page) == []
        assert verdict(page, labs_site, "proxy-page", variant).startswith(
            "Attack succeeded")
    else:
        popup = open_the_exploit(page)
        expect(popup.get_by_text("Invalid redirect URI")).to_be_visible()
        assert run.entries("proxy") == [] and run.entries("leak") == []
        assert verdict(page, labs_site, "proxy-page", variant).startswith(
            "Attack failed")
    popup.close()


def test_proxy_page_defended_helper_posts_to_its_own_origin(page, labs_site):
    """The second defence alone: the defended helper page opened by the attacker's
    window, as if a token had reached it, posts nothing the attacker hears."""
    run = start(page, labs_site, "proxy-page", "defended")
    page.get_by_role("link", name="Open the attacker's page").click()
    page.get_by_role("link", name="Open the live session").click()
    helper = labs_site("/labs/proxy-page/defended/page/proxy#access_token=x")
    with page.expect_popup() as opened:
        page.evaluate("(url) => { window.open(url); }", helper)
    expect(opened.value.locator("#proxy")).to_have_text(
        "Posted this page's address to the window that opened it.")
    page.wait_for_timeout(300)  # a message, had one come, would be heard by now
    expect(page.locator("#heard")).to_have_text("Nothing heard yet.")
    assert run.entries("leak") == []
    opened.value.close()


def test_proxy_page_without_signing_in_first(page, labs_site):
    """Unexpected path: the learner skips the sign-in. The window stops at the
    sandbox's sign-in page, whose opener policy cuts the window's link to the
    attacker's page: signing in there leaks nothing, and no verdict is given."""
    run = start(page, labs_site, "proxy-page", "vulnerable")
    popup = open_the_exploit(page)
    popup.get_by_role("button", name="Continue as Alice Lindqvist").click()
    popup.wait_for_url(re.compile(r"/authorize\?|/page/proxy#"))
    if "/page/proxy" not in popup.url:  # Alice has not agreed to ShopSpin before
        popup.get_by_role("button", name="Agree").click()
    expect(popup.locator("#proxy")).to_have_text(
        "No window opened this page: it posted nothing.")
    assert run.entries("leak") == []
    assert verdict(page, labs_site, "proxy-page", "vulnerable").startswith(
        "Not decided yet")
    popup.close()
