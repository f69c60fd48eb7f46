"""Keep and share a run in a real Chromium (issue 20, part 5): the import form and
the imported run, a refused file, the owner's share page and the shared view; axe
clean, no console errors, on a phone (390×844) and at 1280×720 in large type."""

from __future__ import annotations

import re

import pytest

from tests.a11y import serious_violations
from tests.keep_helpers import finished
from tests.test_run_share import _share

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert wide <= 0, f"{wide} px wider than the screen"


def test_import_through_the_form_then_read_it(page, live_server, tmp_path):
    runner = finished(live_server, "authorization-code-pkce")
    export = tmp_path / "run.json"
    export.write_bytes(runner.session.get(runner.run_url + "/export.json",
                                          timeout=10).content)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/run/"))
    page.get_by_role("link", name="Import a run").click()
    assert page.locator("h1").inner_text() == "Import a run"
    assert serious_violations(page) == []
    _fits(page)

    page.get_by_label("The run's JSON export").set_input_files(str(bad))
    page.get_by_role("button", name="Import the run").click()
    alert = page.get_by_role("alert")
    assert "not a run export" in alert.inner_text()
    assert serious_violations(page) == []
    _fits(page)

    page.get_by_label("The run's JSON export").set_input_files(str(export))
    page.get_by_role("button", name="Import the run").click()
    page.wait_for_url(re.compile(r"/runs/[\w-]+$"))
    assert "Imported" in page.locator("#provenance").inner_text()
    assert page.locator("form[action$='/next']").count() == 0
    assert serious_violations(page) == []
    _fits(page)
    page.locator(".run-steps a").nth(2).click()
    assert "Step 3" in page.locator("h1").inner_text()
    assert serious_violations(page) == []
    _fits(page)


def test_the_shared_view_in_a_browser(chromium, live_server):
    runner = finished(live_server, "authorization-code")
    link, _ = _share(runner)
    owner = chromium.new_context(viewport={"width": 1280, "height": 720})
    owner.add_cookies([{"name": c.name, "value": c.value, "url": live_server()}
                       for c in runner.session.cookies]
                      + [{"name": "flowlab_large_type", "value": "1",
                          "url": live_server()}])
    viewer = chromium.new_context(viewport={"width": 390, "height": 844})
    large = chromium.new_context(viewport={"width": 1280, "height": 720})
    large.add_cookies([{"name": "flowlab_large_type", "value": "1",
                        "url": live_server()}])
    try:
        errors: list[str] = []
        pages = [context.new_page() for context in (owner, viewer, large)]
        for page in pages:
            page.on("console", lambda msg: msg.type == "error"
                    and errors.append(msg.text))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        mine, phone, projector = pages
        mine.goto(runner.run_url + "/shares")
        assert mine.get_by_role("button", name="Revoke").count() == 1
        assert serious_violations(mine) == []

        for page in (phone, projector):
            page.goto(link)
            assert "read-only" in page.locator("#provenance").inner_text()
            assert page.locator("button").count() == 0
            assert serious_violations(page) == []
            page.goto(link + "?step=1")
            page.locator("#next").click()  # the step list folds away in large type
            page.wait_for_url(link + "?step=2")
            assert "Step 2" in page.locator("h1").inner_text()
            assert serious_violations(page) == []
        _fits(phone)
        phone.keyboard.press("ArrowLeft")  # runner.js: the previous step
        phone.wait_for_url(link + "?step=1")
        assert errors == []
    finally:
        for context in (owner, viewer, large):
            context.close()
