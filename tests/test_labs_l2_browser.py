"""Attack labs "forced-linking" and "token-injection" in Chromium, played as a
learner would: the attack succeeds against the weak configuration and fails
against the defence, judged on the captured messages; pages pass axe; an
unexpected path gives no false verdict."""

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


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


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
def test_l2_lab_pages_pass_axe(page, lab_server):
    for lab in ("forced-linking",):
        assert page.goto(lab_server(f"/labs/{lab}")).status == 200
        assert serious_violations(page) == []
    page.goto(lab_server("/labs/?level=practitioner"))
    expect(page.get_by_role("link", name="Forced OAuth profile linking")) \
        .to_be_visible()


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_forced_linking_in_chromium(page, lab_server, variant):
    run = start(page, lab_server, "forced-linking", variant)
    page.get_by_role("link", name="Open the attacker's page").first.click()
    page.wait_for_url(ATTACKER)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Claim your free festival ticket").click()
    page.wait_for_url(lab_server(f"/labs/forced-linking/{variant}") + "*")
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
        assert verdict(page, lab_server, "forced-linking", variant).startswith(
            "Attack succeeded")
    else:
        assert run.entries("token") == []
        assert page.locator("#linked").inner_text() == "none"
        assert verdict(page, lab_server, "forced-linking", variant).startswith(
            "Attack failed")


def test_forced_linking_back_reload_and_twice(page, lab_server):
    """Unexpected path: the attacker's page opened, then back and reload (no
    verdict, no sign-in for Bob yet); the bait followed twice: the second callback's
    code is spent, and the verdict stays what the first showed."""
    run = start(page, lab_server, "forced-linking", "vulnerable")
    page.get_by_role("link", name="Open the attacker's page").first.click()
    page.wait_for_url(ATTACKER)
    expect(page.get_by_role("button", name="Sign in to GigBoard as Bob")) \
        .to_have_count(0)
    bait = page.get_by_role("link", name="Claim your free festival ticket") \
        .get_attribute("href")
    page.go_back()
    page.reload()
    assert verdict(page, lab_server, "forced-linking", "vulnerable").startswith(
        "Not decided yet")
    page.goto(bait)
    page.goto(bait)
    tokens = run.entries("token")
    assert [status(t) for t in tokens] == [200, 400]
    assert verdict(page, lab_server, "forced-linking", "vulnerable").startswith(
        "Attack succeeded")
