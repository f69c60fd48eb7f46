"""The API console in a real Chromium: pick an endpoint, send, read the annotated
answer; axe clean (colour contrast included), no console errors, nothing wider
than a phone, and readable in large type on a projector."""

from __future__ import annotations

import pytest

from tests.a11y import in_schemes
from tests.a11y import serious_violations
from tests.test_console import finished
from tests.test_layout_browser import BROKEN_WORDS
from tests.test_layout_browser import STICKING_OUT

pytestmark = pytest.mark.browser


def as_attendee(page, live_server, flow_id: str):
    """A run with an access token, made over HTTP; the browser takes it over."""
    runner = finished(live_server, flow_id)
    page.context.add_cookies([{"name": c.name, "value": c.value,
                               "url": live_server()} for c in runner.session.cookies])
    return runner


def test_pick_an_endpoint_send_and_read_the_answer(page, live_server):
    runner = as_attendee(page, live_server, "implicit")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(runner.run_url)
    with page.expect_navigation():
        page.get_by_role("link", name="Call the API").click()
    assert page.locator("h1").inner_text() == "Call the API"
    assert serious_violations(page) == []

    with page.expect_navigation():
        page.get_by_role("link", name="Use GET /v1/me/playlists").click()
    assert page.get_by_label("Path").input_value() == "/v1/me/playlists"
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    answer = page.locator("#answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "HTTP/1.1 403" in text
    assert "playlist-read-private" in answer.locator(".console-notes").inner_text()
    assert "Insufficient client scope" in text
    history = page.locator("#history li")
    assert "GET /v1/me/playlists" in history.first.inner_text()
    assert serious_violations(page) == []

    with page.expect_navigation():
        page.get_by_role("link", name="Use GET /v1/me").first.click()
    page.get_by_label("No token at all").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    notes = page.locator("#answer .console-notes").inner_text()
    assert "401 Unauthorized" in notes and "RFC 6750 §3.1" in notes
    assert page.locator("#history li").count() == 2


def test_a_refused_address_is_said_next_to_the_form(page, live_server):
    runner = as_attendee(page, live_server, "authorization-code")
    page.goto(runner.run_url + "/console")
    page.get_by_label("Path").fill("/api/token")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    alert = page.get_by_role("alert")
    assert "Only addresses under" in alert.inner_text()
    assert page.get_by_label("Path").input_value() == "/api/token"
    assert page.locator("#answer").count() == 0
    assert serious_violations(page) == []


def test_the_console_fits_a_phone_and_large_type(page, live_server):
    runner = as_attendee(page, live_server, "authorization-code")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(runner.run_url + "/console?use=search")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    page.locator("#answer").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert page.evaluate(STICKING_OUT) == []
    assert serious_violations(page) == []

    page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                               "url": live_server()}])
    page.set_viewport_size({"width": 1280, "height": 720})
    page.reload()
    assert "HTTP/1.1 200" in page.locator("#answer").inner_text()
    assert page.evaluate(BROKEN_WORDS, "main thead th") == []
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert in_schemes(page, ("light", "dark")) == []
