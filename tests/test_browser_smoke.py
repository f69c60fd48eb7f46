"""The browser harness itself: a real Chromium loads the home page offline."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.only_reads
def test_home_loads_in_chromium(page, live_server):
    page.goto(live_server("/"))
    assert page.title().endswith("OAuth Flow Lab")
    assert page.locator("h1").inner_text() == "OAuth Flow Lab"
