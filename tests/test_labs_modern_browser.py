"""Attack labs on modern OAuth in Chromium (token passthrough, DPoP proof replay):
played as a learner would, the attack succeeds against the weak configuration and
fails against the defence, judged on the captured messages; pages pass axe; an
unexpected path gives no false verdict."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in as sign_in_http
from tests.labs_helpers import start as start_http
from tests.labs_helpers import status
from tests.test_layout_browser import STICKING_OUT

pytestmark = pytest.mark.browser
ATTACKER = "http://127.0.0.2:*/**"


def start(page, server, lab: str, variant: str):
    """Open the lab's page and the run page (axe on both), start a run; the run
    from the store."""
    page.goto(server(f"/labs/{lab}"))
    assert serious_violations(page) == []
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_selector("#trace")
    href = page.get_by_role("link", name="Open the attacker's page").get_attribute(
        "href")
    return run_of(server, href)


def sign_in_as_alice(page) -> None:
    """Sign in as Alice, and agree if asked (an earlier test may have agreed)."""
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    agree = page.get_by_role("button", name="Agree")
    agree.or_(page.locator("#verdict")).first.wait_for()
    if agree.count():
        agree.click()


def to_attacker(page) -> None:
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []


def verdict(page, server, lab: str, variant: str, state: str = "") -> str:
    page.wait_for_url(server(f"/labs/{lab}/{variant}") + "*")
    page.wait_for_selector(f"#verdict[data-verdict={state}]" if state else
                           "#verdict:not([data-verdict=undecided])")
    assert serious_violations(page) == []
    return page.locator("#verdict").inner_text()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_token_passthrough_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "token-passthrough", variant)
    sign_in_as_alice(page)
    page.wait_for_url(labs_site("/labs/token-passthrough/") + "*")
    to_attacker(page)
    expect(page.get_by_text('"aud": "http://127.0.0.2:')).to_be_visible()
    page.get_by_role("button", name="Replay it at the music API").click()
    expect(page.get_by_role("heading", name="The attacker replayed Alice's token"
                                            " at the music API")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the lab").click()
    said = verdict(page, labs_site, "token-passthrough", variant)
    replay = run.entries("replay")[0]
    handed = run.entries("lyrics")[0].exchange.request.header("Authorization")
    assert replay.exchange.request.header("Authorization") == handed
    if variant == "vulnerable":
        assert status(replay) == 200
        assert json.loads(replay.exchange.response.body)["id"] == "alice"
        assert said.startswith("Attack succeeded")
    else:
        assert status(replay) == 401
        assert 'error="invalid_token"' in replay.exchange.response.header(
            "WWW-Authenticate")
        assert said.startswith("Attack failed")


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_dpop_replay_in_chromium(page, labs_site, variant):
    run = start(page, labs_site, "dpop-replay", variant)
    sign_in_as_alice(page)
    page.wait_for_url(labs_site("/labs/dpop-replay/") + "*")
    to_attacker(page)
    expect(page.get_by_role("heading", name="A logging proxy's capture")
           ).to_be_visible()
    expect(page.get_by_text("Authorization: DPoP ")).to_be_visible()
    page.get_by_role("button", name="Replay the captured request").click()
    expect(page.get_by_role("heading", name="The attacker sent the captured"
                                            " request again")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the lab").click()
    said = verdict(page, labs_site, "dpop-replay", variant)
    replay = run.entries("replay")[0]
    captured = run.entries("me")[-1].exchange.request
    assert replay.exchange.request.header("DPoP") == captured.header("DPoP")
    if variant == "vulnerable":
        assert status(replay) == 200
        assert said.startswith("Attack succeeded")
    else:
        assert status(replay) == 401
        assert replay.exchange.response.header("WWW-Authenticate").startswith(
            'DPoP error="invalid_dpop_proof"')
        assert said.startswith("Attack failed")


@pytest.mark.parametrize("lab", ["token-passthrough", "dpop-replay"])
def test_a_cancelled_sign_in_decides_nothing_in_chromium(page, labs_site, lab):
    """The learner cancels at the consent page (as Bob, new to the client), then
    opens the attacker's page and goes back: nothing to replay, not decided."""
    run = start(page, labs_site, lab, "defended")
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Bob").click()
    page.get_by_role("button", name="Cancel").click()
    said = verdict(page, labs_site, lab, "defended", "undecided")
    assert said.startswith("Not decided yet")
    to_attacker(page)
    expect(page.get_by_role("button")).to_have_count(0)
    page.get_by_role("link", name="Back to the lab").click()
    assert verdict(page, labs_site, lab, "defended", "undecided").startswith(
        "Not decided yet")
    assert run.entries("replay") == []


@pytest.mark.parametrize(("variant", "forgery", "kind"), [
    ("vulnerable", "alg: none, no signature", "none"),
    ("vulnerable", "A genuine token issued to QuizTune (aud)", "aud"),
    ("defended", "HS256, keyed with the sandbox's public key", "hs256"),
    ("defended", "Alice's token from her earlier sign-in (nonce)", "nonce")])
def test_id_token_validation_in_chromium(page, labs_site, variant, forgery, kind):
    run = start(page, labs_site, "id-token-validation", variant)
    sign_in_as_alice(page)
    page.wait_for_url(labs_site("/labs/id-token-validation/") + "*")
    to_attacker(page)
    buttons = page.get_by_role("group", name="ID token to present")
    expect(buttons.get_by_role("button")).to_have_count(4)
    buttons.get_by_role("button", name=forgery).click()
    expect(page.get_by_text(f"Presented ({kind})")).to_be_visible()
    expect(page.get_by_role("button", name=forgery)).to_have_count(0)  # tried
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the lab").click()
    said = verdict(page, labs_site, "id-token-validation", variant)
    tried = run.entries(f"attacker-{kind}")[0]
    answer = json.loads(tried.exchange.response.body)
    detail = page.locator("#verdict .lab-detail")
    if variant == "vulnerable":
        assert status(tried) == 200 and answer["signed_in"] == "alice"
        assert said.startswith("Attack succeeded")
        expect(detail).to_contain_text("The check it skipped")
    else:
        assert status(tried) == 401 and answer["check"] in ("signature", "nonce")
        assert said.startswith("Attack failed")
        expect(detail).to_contain_text("The check that stopped it")
    expect(detail).to_have_attribute("data-detail", kind)


def test_id_token_replay_of_another_users_token_decides_nothing(page, labs_site):
    """The learner signs in as Bob, then replays that old token from the attacker's
    page: JamJar signs the attacker in as Bob, which is no attack on Alice."""
    run = start(page, labs_site, "id-token-validation", "vulnerable")
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Bob").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(labs_site("/labs/id-token-validation/") + "*")
    to_attacker(page)
    page.get_by_role("button", name="Alice's token from her earlier sign-in").click()
    expect(page.get_by_text("Presented (nonce)")).to_be_visible()
    page.get_by_role("link", name="Back to the lab").click()
    said = verdict(page, labs_site, "id-token-validation", "vulnerable", "undecided")
    assert said.startswith("Not decided yet")
    answer = json.loads(run.entries("attacker-nonce")[0].exchange.response.body)
    assert answer["signed_in"] == "bob"


def test_attacker_pages_fit_a_phone(chromium, labs_site):
    """Each lab's attacker page, with what the attacker holds (Alice signed in)
    and after its first button, fits 390 px: the long tokens and buttons wrap."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for lab in ("token-passthrough", "dpop-replay", "id-token-validation"):
            victim = requests.Session()
            url = start_http(victim, labs_site, lab, "defended")
            sign_in_http(victim, labs_site, lab, "defended", "alice")
            page.goto(url)
            expect(page.get_by_role("button").first).to_be_visible()
            assert page.evaluate(STICKING_OUT) == [], lab
            assert serious_violations(page) == []
            with page.expect_navigation():  # and with what the attack brought back
                page.get_by_role("button").first.click()
            assert page.evaluate(STICKING_OUT) == [], lab
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
