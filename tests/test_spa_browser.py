"""The PKCE run "as a single-page app" in a real Chromium: the page sends the token
request with fetch, and the step shows it as the sandbox received it."""

from __future__ import annotations

import re

import pytest

from tests.a11y import serious_violations
from tests.conftest import PROVIDER_HOST

pytestmark = pytest.mark.browser


def _through_the_provider(page) -> None:
    if page.get_by_role("button", name=re.compile("Agree")).count() == 0:
        page.get_by_role("button", name=re.compile("alice", re.I)).first.click()
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url(re.compile(r"/runs/"))


def _spa_run_to_the_token_step(page, lab) -> None:
    """Start the run as a single-page app and click Next up to the token step."""
    page.goto(lab("/run/authorization-code-pkce"))
    page.get_by_label(re.compile("This page, with fetch")).check()
    page.get_by_role("button", name="Start the run").click()
    with page.expect_navigation():
        page.locator("#next").click()  # the authorization URL
    page.locator("#next").click()  # off to the sandbox, the verifier kept
    _through_the_provider(page)
    kept = page.evaluate("Object.keys(sessionStorage)")
    assert any(key.startswith("flowlab-pkce-verifier:") for key in kept)
    with page.expect_navigation():
        page.locator("#next").click()  # spa.js: fetch, then Next
    page.wait_for_load_state()


def _message(page, heading: str) -> str:
    return page.locator(f"section.message:has(h3:text-is('{heading}')) .wire-view"
                        ).inner_text()


def _finish(page) -> None:
    while page.locator("#next").count():
        with page.expect_navigation():
            page.locator("#next").click()
    assert "That is the whole flow" in page.content()
    assert page.locator(".run-step-failed").count() == 0
    assert page.locator(".run-step-done").count() == 10


def test_page_sends_the_token_request_and_the_run_goes_on(page, live_server):
    _spa_run_to_the_token_step(page, live_server)
    assert page.locator("h1").inner_text().startswith("Step 4: The page exchanges")
    request = _message(page, "The request")
    assert request.startswith("POST /sandbox/api/token HTTP/1.1")
    assert f"Origin: {live_server.url}" in request
    assert "code_verifier=" in request
    raw = page.locator("#request details.raw .wire").text_content()  # folded
    assert "User-Agent: Mozilla/5.0" in raw
    assert "python-requests" not in raw
    told = page.locator(".spa-received").inner_text()
    assert "Access-Control-Allow-Origin: *" in told
    assert "sessionStorage" in told
    assert page.evaluate("Object.keys(sessionStorage)") == []  # removed once used
    assert page.locator("tr.unannotated").count() == 0
    assert serious_violations(page) == []
    _finish(page)


def test_across_origins_the_browser_enforces_cors(page, serve, sandbox_processes):
    """A standalone sandbox on 127.0.0.2: the page's fetch is cross-origin. Without
    Access-Control-Allow-Origin Chromium would block the answer and log a console
    error, which the ``page`` fixture fails on."""
    (sandbox_url,) = sandbox_processes(1)
    lab = serve(SANDBOX_URL=sandbox_url, SECRET_KEY="standalone-key")
    _spa_run_to_the_token_step(page, lab)
    raw = page.locator("#request details.raw").text_content()
    assert f"Host: {PROVIDER_HOST}" in raw
    assert "Sec-Fetch-Mode: cors" in raw
    assert f"Origin: {lab.url}" in _message(page, "The request")
    assert "different origins" in page.locator(".spa-received").inner_text()
    assert serious_violations(page) == []
    _finish(page)
