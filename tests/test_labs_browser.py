"""Attack labs in Chromium: the learner's browser is the victim, the attacker's
site is on 127.0.0.2; each attack succeeds against the weak configuration and fails
against the defence, judged on the captured messages; every page passes axe."""

from __future__ import annotations

import json

import pytest

from tests.a11y import serious_violations
from tests.labs_helpers import run_of

pytestmark = pytest.mark.browser




def the_run(server, page):
    """The run of the lab page shown in ``page``, from the lab's store."""
    href = page.get_by_role("link", name="Open the attacker's page").get_attribute(
        "href")
    assert href.startswith("http://127.0.0.2:")
    return run_of(server, href)


def start(page, server, lab: str, variant: str):
    page.goto(server(f"/labs/{lab}/{variant}"))
    assert serious_violations(page) == []
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_selector("#trace")
    return the_run(server, page)


def status(entry) -> int:
    return int(entry.exchange.response.start_line.split(" ")[1])


@pytest.mark.only_reads
def test_lab_pages_pass_axe(page, lab_server):
    for path in ("/labs/", "/labs/csrf-state", "/labs/code-interception",
                 "/labs/code-replay"):
        page.goto(lab_server(path))
        assert serious_violations(page) == []


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_csrf_state_in_chromium(page, lab_server, variant):
    run = start(page, lab_server, "csrf-state", variant)
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url("http://127.0.0.2:*/**")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Claim your free month of Premium").click()
    page.wait_for_url(lab_server(f"/labs/csrf-state/{variant}") + "*")
    callback = run.entries("callback")[0].exchange.request
    # A real cross-site navigation, and the victim's session cookie went with it.
    assert callback.header("Sec-Fetch-Site") == "cross-site"
    assert callback.header("Cookie")
    verdict = page.locator("#verdict").inner_text()
    if variant == "vulnerable":
        assert status(run.entries("token")[0]) == 200
        me = json.loads(run.entries("me")[0].exchange.response.body)
        assert me["id"] == "bob"
        assert page.locator("#linked").inner_text() == "Bob Okafor"
        assert verdict.startswith("Attack succeeded")
    else:
        assert run.entries("token") == [] and run.entries("me") == []
        assert page.locator("#linked").inner_text() == "none"
        assert verdict.startswith("Attack failed")
    assert serious_violations(page) == []


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_replay_in_chromium(page, lab_server, variant):
    run = start(page, lab_server, "code-replay", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(lab_server(f"/labs/code-replay/{variant}") + "*")
    assert page.locator("#linked").inner_text() == "Alice Lindqvist"
    page.get_by_role("link", name="Open the attacker's page").click()
    page.wait_for_url("http://127.0.0.2:*/**")
    assert "grant_type=authorization_code" in page.locator("pre").inner_text()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Replay the logged token request").click()
    page.get_by_role("link", name="Back to the lab").click()
    page.wait_for_url(lab_server(f"/labs/code-replay/{variant}") + "*")
    page.get_by_role("button", name="Call the API again").click()
    page.wait_for_selector("#verdict:not([data-verdict=undecided])")
    replay = run.entries("replay")[0]
    assert replay.exchange.request.body == run.entries("token")[0].exchange.request.body
    verdict = page.locator("#verdict").inner_text()
    if variant == "vulnerable":
        assert status(replay) == 200
        assert status(run.entries("recheck")[0]) == 200
        assert verdict.startswith("Attack succeeded")
    else:
        assert status(replay) == 400
        assert json.loads(replay.exchange.response.body)["error"] == "invalid_grant"
        assert status(run.entries("recheck")[0]) == 401
        assert verdict.startswith("Attack failed")
    assert serious_violations(page) == []


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_code_interception_in_chromium(page, lab_server, variant):
    run = start(page, lab_server, "code-interception", variant)
    page.get_by_role("link", name="Sign in with the sandbox").click()
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url("http://127.0.0.2:*/**")  # the other app caught the redirect
    assert serious_violations(page) == []
    stolen = run.entries("attacker-token")[0]
    assert "code_verifier" not in stolen.exchange.request.text
    page.get_by_role("link", name="Back to the lab").click()
    page.wait_for_selector("#verdict:not([data-verdict=undecided])")
    verdict = page.locator("#verdict").inner_text()
    if variant == "vulnerable":
        assert status(stolen) == 200
        assert verdict.startswith("Attack succeeded")
    else:
        assert status(stolen) == 400
        assert json.loads(stolen.exchange.response.body)["error"] == "invalid_request"
        assert verdict.startswith("Attack failed")
    assert serious_violations(page) == []
