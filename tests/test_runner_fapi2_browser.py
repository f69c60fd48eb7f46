"""The FAPI 2.0 flow in a real Chromium, against the sandbox's FAPI 2.0 issuer
chosen on the provider page: Next, sign in, Agree, to the end; every step page
axe clean (the richest, the token step, at every size), no console error, no
horizontal overflow at 390 px or in large type."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end

pytestmark = pytest.mark.browser

STEPS = 7


def _overflow(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") > page.evaluate(
        "document.scrollingElement.clientWidth")


def test_the_fapi2_run_in_chromium(page, live_server):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server("/provider"))
    page.get_by_role("button", name="Use the sandbox (FAPI 2.0)").click()
    page.goto(live_server("/run/fapi2"))
    def pushed(href: str) -> None:
        if "/authorize?" in href:
            assert "request_uri=" in href and "scope=" not in href  # RFC 9126 §4

    run_url = run_to_the_end(page, at_the_sandbox, pushed)
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow." in page.content()
    pages = [f"{run_url}?step={n}" for n in range(1, STEPS + 1)]
    pages += [live_server("/run/fapi2"), live_server("/lessons/fapi-2")]
    for width, height, large in ((1440, 900, False), (390, 844, False),
                                 (1280, 720, True)):  # large type last
        if large:
            page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                                       "url": live_server()}])
        page.set_viewport_size({"width": width, "height": height})
        for url in pages:
            page.goto(url)
            assert not _overflow(page), (width, url)
            if width == 1440 or url.endswith("?step=5"):  # axe: every page once,
                assert serious_violations(page) == [], (width, url)  # + the token
    assert page.console_errors == []
