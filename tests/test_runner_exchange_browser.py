"""The token exchange flow in a real Chromium on a phone's width: the best-practice
issuer chosen on the provider page, every step by Next alone, Continue as Alice and
Agree at the sandbox; the lesson, the start page and each step audited with axe and
nothing wider than 390 px, then the exchange's decoded tokens at 1440 px and in
large type at 1280 px."""

from __future__ import annotations

import pytest

from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end
from tests.test_runner_mcp_browser import _fits

pytestmark = pytest.mark.browser

STEPS = 7
EXCHANGE = 5


def test_the_token_exchange_run_on_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/provider"))
    page.get_by_role("button", name="Use the sandbox (best practice)").click()
    page.goto(live_server("/lessons/token-exchange"))
    _fits(page, "lesson")
    page.goto(live_server("/run/token-exchange"))
    _fits(page, "start page")
    run_url = run_to_the_end(page, at_the_sandbox)
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow." in page.content()
    for number in range(1, STEPS + 1):
        page.goto(f"{run_url}?step={number}")
        _fits(page, f"step {number}")
        assert page.locator("tr.unannotated").count() == 0, f"step {number}"
    page.goto(f"{run_url}?step={EXCHANGE}")
    assert page.get_by_text("The exchanged token, decoded").count() == 1
    for width, height, large in ((1440, 900, False), (1280, 720, True)):
        page.set_viewport_size({"width": width, "height": height})
        if large:
            page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                                       "url": live_server.url}])
        page.goto(f"{run_url}?step={EXCHANGE}")
        _fits(page, f"step {EXCHANGE} at {width} px")
    assert page.console_errors == []
