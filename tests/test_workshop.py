"""Workshop mode: the address to open, and large type that sticks per browser."""

from __future__ import annotations

import re

import pytest

from tests.a11y import serious_violations
from tests.forms import submit


def test_shows_the_address_this_browser_used(live_server, http):
    page = http.get(live_server("/workshop"))
    assert page.status_code == 200
    assert f'<p class="workshop-address mono">{live_server.url}</p>' in page.text
    assert "only works on this computer" in page.text


def test_shows_the_presenters_public_address(serve, http):
    server = serve(PUBLIC_URL="http://192.168.1.20:5000")
    page = http.get(server("/workshop"))
    assert "http://192.168.1.20:5000</p>" in page.text
    assert "only works on this computer" not in page.text


@pytest.mark.parametrize(("next_value", "landing"), [
    ("/run/", "/run/"),
    ("https://evil.example/", "/workshop"),
    ("//evil.example", "/workshop"),
])
def test_large_type_switches_on_and_off(live_server, http, next_value, landing):
    page = http.get(live_server("/workshop"))
    answer = submit(http, page, "Large type", next=next_value)
    assert answer.status_code == 303 and answer.headers["Location"] == landing
    after = http.get(live_server("/workshop"))
    assert re.search(r'<html lang="en" class="large-type">', after.text)
    submit(http, after, "Normal type")
    assert 'class="large-type"' not in http.get(live_server("/")).text


@pytest.mark.browser
def test_large_type_pages_stay_accessible_and_fit_a_phone(page, live_server):
    page.goto(live_server("/workshop"))
    page.get_by_role("button", name="Large type for a projector").click()
    assert page.locator("html.large-type").count() == 1
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 800})
    for path in ("/", "/run/client-credentials", "/workshop"):
        page.goto(live_server(path))
        overflow = page.evaluate("document.documentElement.scrollWidth"
                                 " - document.documentElement.clientWidth")
        assert overflow <= 0, path
