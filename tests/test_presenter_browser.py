"""A presenter's whole PKCE demo in Chromium at 1280×720 in large type, keys only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.flowrunner import FlowRunner

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
# The smallest computed font size of any code on the page, in CSS pixels.
SMALLEST_CODE = """() => Math.min(...[...document.querySelectorAll(
  'main pre, main code, main kbd, main samp, main .mono')]
  .filter((el) => el.getClientRects().length)
  .map((el) => parseFloat(getComputedStyle(el).fontSize)))"""


def _large_type(page, live_server) -> None:
    page.goto(live_server("/workshop"))
    page.get_by_role("button", name="Large type for a projector").click()
    page.wait_for_url("**/workshop")
    assert page.locator("html.large-type").count() == 1


def _press(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_whole_pkce_demo_with_the_keyboard_only(page, live_server):
    page.set_viewport_size(PROJECTOR)
    _large_type(page, live_server)
    page.goto(live_server("/run/authorization-code-pkce"))
    _press(page, "ArrowRight")  # the start page: → starts the run
    page.wait_for_url(re.compile(r"/runs/"))
    run_url = page.url.split("?")[0]
    measured = False
    for _ in range(30):
        if page.locator("#next").count() == 0:
            break
        _press(page, "ArrowRight")
        if "/sandbox/" in page.url and "Continue as Alice" in page.content():
            assert page.evaluate("document.activeElement.textContent").startswith(
                "Continue as Alice")
            _press(page, "Enter")
        if "/sandbox/" in page.url and page.locator("text=Agree").count():
            assert page.evaluate("document.activeElement.value") == "agree"
            _press(page, "Enter")
            page.wait_for_url(re.compile(r"/runs/"))
        if page.locator("h1", has_text="Exchange the code").count():
            assert page.evaluate(SMALLEST_CODE) >= 28
            # The diagram grows with the page: its labels are drawn at 18px or more.
            label = page.locator(".seq-text").first.bounding_box()
            assert label and label["height"] >= 18, label
            # The step list folds away; the masked secrets are blurred.
            assert not page.locator(".run-steps ol").is_visible()
            blurred = page.locator("main .secret").first
            assert "blur" in blurred.evaluate("(el) => getComputedStyle(el).filter")
            assert serious_violations(page) == []
            measured = True
    assert measured, "the demo never reached the token step"
    assert page.url.startswith(run_url)
    assert page.locator(".run-step-failed").count() == 0
    assert "End of the flow" in page.content()
    assert page.evaluate(SMALLEST_CODE) >= 28
    _press(page, "r")  # r: the same flow again, as a new run
    page.wait_for_url(re.compile(r"/runs/"))
    assert page.url.split("?")[0] != run_url
    assert page.locator("h1").inner_text() == "Authorization code with PKCE"
    _press(page, "ArrowLeft")  # ← from a run's first page: back to its start page
    assert page.url.endswith("/run/authorization-code-pkce")


def test_room_updates_without_a_reload(page, serve):
    server = serve()
    page.goto(server("/presenter/room"))
    cell = page.locator('[data-count="client-credentials/runs"]')
    before = int(cell.inner_text())
    page.evaluate("window.__same_page = true")
    FlowRunner(server).start("client-credentials").next()
    expect(cell).to_have_text(str(before + 1), timeout=10000)
    assert page.locator('[data-count="client-credentials/token"]').inner_text() == "1"
    assert page.evaluate("window.__same_page") is True  # not reloaded
    assert page.locator(".room-live").is_visible()
    assert serious_violations(page) == []


def test_presenter_view_follows_the_host_back_and_on(page, serve):
    """Two windows of one browser: the host's step page and the presenter view."""
    server = serve()
    page.goto(server("/run/client-credentials"))
    page.get_by_role("button", name="Start the run").click()
    for _ in range(3):
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^Next")).click()
    presenter = page.context.new_page()
    presenter.goto(server("/presenter"))
    heading = presenter.locator("#now-h")
    expect(heading).to_have_text(re.compile("^Now: step 3,"))
    presenter.evaluate("window.__same_view = true")
    _press(page, "ArrowLeft")  # ← on the step page
    expect(page.locator("h1#step-h")).to_have_text(re.compile("^Step 2:"))
    expect(heading).to_have_text(re.compile("^Now: step 2,"), timeout=10000)
    page.get_by_role("link", name="← Previous").click()
    expect(heading).to_have_text(re.compile("^Now: step 1,"), timeout=10000)
    assert presenter.evaluate("window.__same_view") is None  # it reloaded
    _press(page, "ArrowRight")
    expect(heading).to_have_text(re.compile("^Now: step 2,"), timeout=10000)
    assert serious_violations(presenter) == []


@pytest.mark.only_reads
@pytest.mark.parametrize("path", ["/workshop", "/presenter", "/presenter/room",
                                  "/presenter/reset"])
def test_presenter_pages_are_accessible_in_large_type(page, live_server, path):
    page.set_viewport_size(PROJECTOR)
    _large_type(page, live_server)
    page.goto(live_server(path))
    assert serious_violations(page) == []


@pytest.mark.only_reads
def test_revealed_secrets_are_blurred_in_large_type(page, live_server):
    """Revealing in front of a room still keeps tokens unreadable from the seats."""
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    runner.run_all()
    page.context.add_cookies(
        [{"name": c.name, "value": c.value, "url": live_server.url}
         for c in runner.session.cookies]
        + [{"name": "flowlab_large_type", "value": "1", "url": live_server.url}])
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{runner.run_url}?step=4&reveal=1")
    revealed = page.evaluate(
        "JSON.parse(document.getElementById('revealed-secrets').textContent)")
    blurred = page.locator("main .secret").all_inner_texts()
    assert any(len(value) > 20 and value in blurred for value in revealed)
    first = page.locator("main .secret").first
    assert "blur" in first.evaluate("(el) => getComputedStyle(el).filter")
    page.context.clear_cookies(name="flowlab_large_type")  # ordinary type: no list
    page.goto(f"{runner.run_url}?step=4&reveal=1")
    assert page.locator("#revealed-secrets").count() == 0
