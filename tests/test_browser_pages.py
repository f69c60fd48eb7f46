"""A newcomer in a real Chromium: home, advisor, result, lesson; audited with axe."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.test_content import LESSONS
from tests.test_lessons_modern import MODERN_LESSONS

pytestmark = pytest.mark.browser

RESULT = "/advisor?acts_for_user=yes&runs_on=spa&needs_refresh=yes"
OWN_PAGES = [
    "/",
    "/advisor",
    "/advisor?acts_for_user=yes&runs_on=nowhere",
    RESULT,
    "/advisor?acts_for_user=no&runs_on=native&needs_refresh=yes",
    RESULT + "&goal=agent",  # beyond the table: a flow the runner has not yet
    RESULT + "&goal=sign-in",
    "/lessons/",
    *[f"/lessons/{slug}" for slug in LESSONS],
    *[f"/lessons/{slug}" for slug in MODERN_LESSONS],
    "/glossary",
    "/no-such-page",
]


def walk_the_newcomer_path(page, live_server) -> None:
    """Home → advisor → three answers → result → the recommended flow's lesson."""
    page.goto(live_server("/"))
    page.get_by_role("link", name="Start the advisor").click()
    page.wait_for_url("**/advisor")
    page.get_by_label("Yes, it reads or changes a user's own data").check()
    page.get_by_label("In the browser (a JavaScript single-page app)").check()
    page.get_by_label("No, only while the user is using it").check()
    page.get_by_role("button", name="Recommend a flow").click()
    page.wait_for_url("**/advisor?*")
    # The answers live in the URL, so the result can be shared.
    assert "runs_on=spa" in page.url and "acts_for_user=yes" in page.url
    assert page.locator("h1").inner_text() == "Authorization code with PKCE"
    # In-page PKCE: the run whose page sends the token request (issue 18 item 7).
    run = page.get_by_role("link", name="Run it live").first
    assert run.get_attribute("href") == "/run/authorization-code-pkce?run_as=spa"
    page.get_by_role("link", name="Read the lesson").click()
    page.wait_for_url("**/lessons/authorization-code-pkce")
    assert page.locator("h1").inner_text() == "Authorization code with PKCE"
    assert page.locator(".highlight").count() >= 3


def test_newcomer_path_with_javascript(page, live_server):
    walk_the_newcomer_path(page, live_server)


@pytest.mark.no_javascript
def test_newcomer_path_without_javascript(page, live_server):
    walk_the_newcomer_path(page, live_server)


@pytest.mark.no_javascript
def test_missing_answer_shows_the_message_beside_the_field(page, live_server):
    response = page.goto(live_server("/advisor?acts_for_user=no"))
    assert response.status == 400
    assert "Choose one of the answers" in page.locator("#error-runs_on").inner_text()
    fieldset = page.locator("#q-runs_on")
    assert "error-runs_on" in fieldset.get_attribute("aria-describedby")
    assert page.get_by_label("No, it only needs public catalogue data").is_checked()
    assert page.locator("#error-acts_for_user").count() == 0


@pytest.mark.only_reads
@pytest.mark.parametrize("path", OWN_PAGES)
def test_pages_pass_axe_in_light_mode(page, live_server, path):
    page.emulate_media(color_scheme="light")
    page.goto(live_server(path))
    assert serious_violations(page) == []


@pytest.mark.only_reads
@pytest.mark.parametrize(
    "path", ["/", RESULT, "/lessons/authorization-code-pkce", "/glossary"]
)
def test_pages_pass_axe_in_dark_mode(page, live_server, path):
    page.emulate_media(color_scheme="dark")
    page.goto(live_server(path))
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(246, 247, 251)", "dark mode did not apply"
    assert serious_violations(page) == []


@pytest.mark.only_reads
@pytest.mark.parametrize("width", [360, 640, 1280])  # phone, 200% zoom, laptop
@pytest.mark.parametrize(
    "path", ["/", RESULT, "/lessons/authorization-code", "/glossary", "/advisor"]
)
def test_nothing_overflows_on_narrow_screens(page, live_server, width, path):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server(path))
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    # Nor does anything stick out of the viewport, even inside a card.
    sticking_out = page.evaluate(
        """() => [...document.querySelectorAll("body *:not(svg *)")]
            .filter(el => el.getBoundingClientRect().right
                    > document.documentElement.clientWidth + 1)
            .map(el => el.tagName + "." + el.className)"""
    )
    assert sticking_out == []


def test_focus_is_visible_on_links_and_buttons(page, live_server):
    page.goto(live_server("/"))
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
