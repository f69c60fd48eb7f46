"""The FAPI 2.0 flow in a real Chromium, against the sandbox's FAPI 2.0 issuer
chosen on the provider page: Next, sign in, Agree, to the end; every step page
axe clean (the richest, the token step, at every size), no console error, no
horizontal overflow at 390 px or in large type."""

from __future__ import annotations

import re

import pytest

from tests.a11y import serious_violations

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
    with page.expect_navigation():  # read the run page, not the start page
        page.get_by_role("button", name="Start the run").click()
    while page.locator("#next").count():
        href = page.locator("#next").get_attribute("href") or ""
        with page.expect_navigation():
            page.locator("#next").click()
        if "/authorize?" in href:
            assert "request_uri=" in href and "scope=" not in href  # RFC 9126 §4
            if page.get_by_role("button", name=re.compile("Agree")).count() == 0:
                page.get_by_role("button", name=re.compile("alice", re.I)).first.click()
            page.get_by_role("button", name="Agree").click()
            page.wait_for_url(re.compile(r"/runs/"))
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow." in page.content()
    run_url = page.url.split("?")[0]
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
