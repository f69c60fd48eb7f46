"""Issue 22 §5 in Chromium: from a pasted request into the lab's run of it, and
from a run's step into the inspector and back; axe clean on the way."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.a11y import serious_violations
from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end

pytestmark = pytest.mark.browser

WEAK = "https://accounts.example.com/authorize?" + urlencode({
    "response_type": "token", "client_id": "app",
    "redirect_uri": "https://app.example/cb"})


def test_from_the_inspector_into_the_lab_and_back(page, live_server):
    page.goto(live_server("/inspect"))
    page.get_by_label("What to inspect").fill(WEAK)
    with page.expect_navigation():
        page.get_by_role("button", name="Inspect").click()
    lab = page.locator(".inspect-lab")
    assert lab.get_by_role(
        "link", name="Implicit flow: the token leaks from the address").count() == 1
    assert serious_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Run this in the lab: Implicit grant").click()
    assert page.url.endswith("/run/implicit")

    # A run of the client-credentials flow, then one of its messages inspected.
    page.goto(live_server("/run/client-credentials"))
    run = run_to_the_end(page, at_the_sandbox)
    page.goto(run + "?step=1")  # the token request and its answer
    with page.expect_navigation():
        page.locator("#response-inspect").click()
    assert page.locator("#inspect-source").inner_text().startswith(
        "Inspecting the response of step")
    assert page.locator("#inspect-kind").inner_text() == "It is: token_response"
    assert serious_violations(page) == []
    with page.expect_navigation():
        page.locator("#inspect-source").get_by_role("link").click()
    assert page.url.startswith(run) and page.locator("#response-inspect").count() == 1
