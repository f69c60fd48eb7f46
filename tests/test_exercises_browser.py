"""Exercises in Chromium: start an attempt on the page, do the work with plain
``requests`` beside it, and watch the checklist follow the wire to "Solved" (live
with JavaScript, with the Refresh button without). Every page passes axe, on a
phone and on a projector in large type."""

from __future__ import annotations

import base64

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import serious_violations

pytestmark = pytest.mark.browser
ARTIST = "kQz7kFsGTSXgIamAi6Io3e"
NO_OVERFLOW = "document.scrollingElement.scrollWidth <= window.innerWidth"


def start(page, live_server, title: str, audit: bool = True) -> dict:
    """From the list, open the exercise and start an attempt; its credentials as
    the page shows them. ``audit``: axe on the way (it needs JavaScript)."""
    page.goto(live_server("/exercises"))
    assert not audit or serious_violations(page) == []
    page.get_by_role("link", name=title).click()
    assert not audit or serious_violations(page) == []
    page.get_by_role("button", name="Start an attempt").click()
    page.wait_for_selector("#checklist")
    found = {"client_id": page.locator("#client-id").inner_text(),
             "issuer": page.locator("#issuer").inner_text()}
    if page.locator("#client-secret").count():
        page.get_by_text("Show the client secret").click()
        found["client_secret"] = page.locator("#client-secret").inner_text()
    return found


def catalogue_call(app: dict) -> None:
    """Client credentials, then a catalogue call, as the learner's curl would."""
    raw = f"{app['client_id']}:{app['client_secret']}".encode()
    auth = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    answer = requests.post(app["issuer"] + "/api/token", headers=auth, timeout=10,
                           data={"grant_type": "client_credentials"})
    assert answer.status_code == 200
    bearer = {"Authorization": "Bearer " + answer.json()["access_token"]}
    assert requests.get(app["issuer"] + f"/v1/artists/{ARTIST}", headers=bearer,
                        timeout=10).status_code == 200


def test_the_checklist_follows_the_wire_live(page, live_server):
    app = start(page, live_server, "Client credentials and a catalogue call")
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("role") == "status"
    assert "Not solved yet" in verdict.inner_text()
    assert page.locator(".check-failed").count() == 2
    assert serious_violations(page) == []
    catalogue_call(app)
    expect(verdict).to_have_text("Solved: every check passes.", timeout=10_000)
    assert page.locator(".check-passed").count() == 2
    assert page.locator(".check-failed").count() == 0
    assert "Passed" in page.locator(".check-passed .check-state").first.inner_text()
    assert serious_violations(page) == []
    page.goto(live_server("/exercises"))  # the browser's attempts, remembered
    mine = page.get_by_role("region", name="Your attempts")
    assert "Client credentials and a catalogue call" in mine.inner_text()
    assert "Solved" in mine.inner_text()
    assert page.console_errors == []


@pytest.mark.no_javascript
def test_without_javascript_the_refresh_button(page, live_server):
    app = start(page, live_server, "Client credentials and a catalogue call",
                audit=False)
    catalogue_call(app)
    assert "Not solved yet" in page.locator("#verdict").inner_text()
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_selector(".verdict-solved")
    assert page.locator("#verdict").inner_text().startswith("Solved")
    assert page.locator(".check-passed").count() == 2


def test_a_failed_check_says_what_and_why(page, live_server):
    start(page, live_server, "PKCE end to end with your own script")
    assert page.locator("#client-secret").count() == 0
    assert "None: a public app" in page.locator(".credentials").inner_text()
    s256 = page.locator('[data-check="s256"]')
    assert "S256" in s256.inner_text() and "RFC 7636" in s256.inner_text()
    snippet = page.locator("pre.snippet").first.inner_text()
    assert page.locator("#client-id").inner_text() in snippet
    assert page.console_errors == []


def test_fits_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    start(page, live_server, "Redeem a code with curl and Basic auth")
    assert page.evaluate(NO_OVERFLOW)
    assert serious_violations(page) == []
    for path in ("/exercises", "/exercises/redeem-with-curl"):
        page.goto(live_server(path))
        assert page.evaluate(NO_OVERFLOW)


def test_large_type_on_a_projector(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(live_server("/workshop"))
    page.get_by_role("button", name="Large type for a projector").click()
    page.wait_for_url("**/workshop")
    start(page, live_server, "The device flow with curl")
    assert page.locator("html.large-type").count() == 1
    assert page.evaluate(NO_OVERFLOW)
    assert serious_violations(page) == []
    assert page.console_errors == []
