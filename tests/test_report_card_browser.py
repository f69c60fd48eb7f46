"""The report card in Chromium: the form works without JavaScript, the card is axe
clean and fits a phone, and printed it is the card without the site's navigation."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.a11y import serious_violations
from tests.test_layout_browser import STICKING_OUT

pytestmark = pytest.mark.browser


@pytest.mark.no_javascript
def test_the_form_shows_the_card_without_javascript(page, live_server):
    page.goto(live_server("/inspect/report"))
    page.get_by_label("Issuer URL").fill(live_server("/sandbox/fapi2"))
    page.get_by_role("button", name="Check this provider").click()
    card = page.locator("#report-card")
    assert card.get_by_role("heading", level=2).inner_text() == (
        "Report card for " + live_server("/sandbox/fapi2"))
    assert page.locator("#line-par").get_attribute("data-verdict") == "pass"
    assert "?issuer=" in page.url  # the card has a link of its own, to share or print


@pytest.mark.only_reads
def test_the_card_fits_a_phone_passes_axe_and_prints_alone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/inspect/report"))
    assert serious_violations(page) == []
    issuer = live_server("/sandbox/best-practice")
    page.goto(live_server("/inspect/report?" + urlencode({"issuer": issuer})))
    card = page.locator("#report-card")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], scheme
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert page.evaluate(STICKING_OUT) == []

    page.emulate_media(media="print", color_scheme="light")
    assert card.is_visible() and page.locator("#line-code_once").is_visible()
    assert not page.locator(".site-header").is_visible()
    assert not page.locator("#report-form").is_visible()
