"""The live runner in a real Chromium: clicking only Next, a demo user, Agree/Cancel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end

pytestmark = pytest.mark.browser

STEPS = {"authorization-code": 11, "authorization-code-pkce": 10,
         "client-credentials": 4, "implicit": 4}


def _click_next(page) -> None:
    # Wait for the navigation the click starts, not the load of the page already
    # shown: otherwise a test can read the old page and end while the new one loads.
    with page.expect_navigation():
        page.locator("#next").click()


def _through_the_provider(page, agree: bool = True) -> None:
    """At the sandbox: pick alice (if asked), then Agree or Cancel."""
    if page.get_by_role("button", name=re.compile("Agree")).count() == 0:
        page.get_by_role("button", name=re.compile("alice", re.I)).first.click()
    page.get_by_role("button", name="Agree" if agree else "Cancel").click()
    page.wait_for_url(re.compile(r"/runs/"))


def _run_flow(page, live_server, flow_id: str) -> None:
    page.goto(live_server(f"/run/{flow_id}"))
    run_to_the_end(page, at_the_sandbox)


@pytest.mark.parametrize("flow_id", sorted(STEPS))
def test_each_flow_from_first_step_to_last(page, live_server, flow_id):
    _run_flow(page, live_server, flow_id)
    assert page.locator(".run-step-done").count() == STEPS[flow_id]
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow" in page.content()
    assert serious_violations(page) == []
    # A real browser adds headers of its own (Sec-Fetch-*, client hints) to the
    # callback request: every one of them is explained too.
    run_url = page.url.split("?")[0]
    for number in range(1, STEPS[flow_id] + 1):
        page.goto(f"{run_url}?step={number}")
        assert page.locator("tr.unannotated").count() == 0, f"step {number}"


def test_cancel_shows_access_denied(page, live_server):
    page.goto(live_server("/run/authorization-code"))
    page.get_by_role("button", name="Start the run").click()
    _click_next(page)
    _click_next(page)
    _through_the_provider(page, agree=False)
    alert = page.get_by_role("alert")
    assert "access denied" in alert.inner_text().lower()
    assert serious_violations(page) == []


def test_keyboard_steps_forward_and_back(page, live_server):
    page.goto(live_server("/run/client-credentials"))
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_url(re.compile(r"/runs/"))
    for _ in range(2):
        with page.expect_navigation():
            page.keyboard.press("ArrowRight")
    assert page.locator("h1").inner_text().startswith("Step 2:")
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert page.locator("h1").inner_text().startswith("Step 1:")
    page.locator("#next").focus()
    assert page.evaluate("document.activeElement.id") == "next"


def test_pkce_step_shows_the_worked_computation(page, live_server):
    page.goto(live_server("/run/authorization-code-pkce"))
    page.get_by_role("button", name="Start the run").click()
    _click_next(page)
    section = page.locator("section.pkce")
    assert "SHA-256" in section.inner_text()
    assert section.locator("code").nth(2).inner_text() in page.locator(
        ".wire-url").inner_text()
    assert serious_violations(page) == []


def test_step_page_passes_audit_in_dark_mode(page, live_server):
    page.emulate_media(color_scheme="dark")
    _run_flow(page, live_server, "client-credentials")
    page.goto(page.url.split("?")[0] + "?step=1")
    assert serious_violations(page) == []


@pytest.mark.only_reads
@pytest.mark.parametrize("path", ["/run/", "/run/implicit", "/provider",
                                  "/run/callback"])
def test_runner_and_provider_pages_pass_the_audit(page, live_server, path):
    page.goto(live_server(path))
    assert serious_violations(page) == []


def _device_waiting(page, serve):
    """A device run at the page after its two polls: the next one must wait."""
    server = serve(SANDBOX_DEVICE_INTERVAL=2)  # 2 + 5 s after the slow_down
    page.goto(server("/run/device-authorization"))
    page.get_by_role("button", name="Start the run").click()
    _click_next(page)
    _click_next(page)
    return page.locator("#poll-wait")


def test_device_wait_is_counted_down_then_next_polls(page, serve):
    wait = _device_waiting(page, serve)
    assert "slow_down" in wait.inner_text() and "§3.5" in wait.inner_text()
    countdown = wait.locator("[data-countdown]")
    first = int(countdown.inner_text().split()[0])
    assert 4 <= first <= 7
    expect(countdown).not_to_have_text(f"{first} s", timeout=3000)  # it counts
    expect(wait.get_by_role("status")).to_have_text(
        "The TV may poll now: Next sends its next poll.", timeout=10000)
    assert not countdown.is_visible()
    assert serious_violations(page) == []
    _click_next(page)  # nobody approved: the poll goes out, the answer is pending
    expect(countdown).to_be_visible()  # a new page, whose wait starts again
    assert "authorization_pending" in page.content()
    assert page.locator(".flash").count() == 0


@pytest.mark.no_javascript
def test_device_wait_without_javascript_says_too_early(page, serve):
    wait = _device_waiting(page, serve)
    assert re.search(r"may poll again in [4-7] s", wait.inner_text())
    _click_next(page)  # too soon: the server says so at once
    expect(page.locator(".flash")).to_contain_text("Too early")
    assert page.locator(".run-step-done").count() == 2
    assert "Too early" in page.locator("[role=status]").all_inner_texts()[0]


@pytest.mark.no_javascript
def test_implicit_callback_without_javascript_says_what_happened(page, live_server):
    """No script: the page says where the token is, why the server cannot see it,
    and what a script would have done, and claims nothing it does not do."""
    page.goto(live_server("/run/implicit"))
    page.get_by_role("button", name="Start the run").click()
    while "/authorize?" not in (page.locator("#next").get_attribute("href") or ""):
        _click_next(page)
    _click_next(page)
    _through_the_provider_to(page, "**/callback*")
    assert "access_token=" in page.url  # still in the address bar
    shown = " ".join(page.locator("main").inner_text().split())
    assert "URL fragment" in shown and "never sends" in shown
    assert "a script on this page would have read it" in shown.lower()
    assert "/run/callback/fragment" in shown  # where the script would have posted it
    assert "JavaScript is off" in shown
    # Nothing on the page says it is reading or running anything.
    for claim in ("Reading the fragment", "This page runs a small script"):
        assert claim not in shown, claim
    page.get_by_role("link", name="Back to the run").click()
    assert "/runs/" in page.url and page.locator(".run-step-done").count() == 1


def _through_the_provider_to(page, url: str) -> None:
    if page.get_by_role("button", name=re.compile("Agree")).count() == 0:
        page.get_by_role("button", name=re.compile("alice", re.I)).first.click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(url)
