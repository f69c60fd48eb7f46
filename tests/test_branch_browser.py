"""Edit and send in a real Chromium: the token step's request as a form, the
verifier dropped, the refusal explained beside the original (issue 20 part 1)."""

from __future__ import annotations

import re

import pytest

from tests.a11y import serious_violations
from tests.flowrunner import FlowRunner
from tests.test_branch import run_until

pytestmark = pytest.mark.browser


def _overflow(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") > page.evaluate(
        "document.scrollingElement.clientWidth")


def test_edit_and_send_from_the_token_step(page, live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    run_until(runner, 4)
    page.context.add_cookies([{"name": c.name, "value": c.value,
                               "url": live_server()} for c in runner.session.cookies])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{runner.run_url}?step=4")
    page.get_by_role("link", name="Edit and send").click()
    assert page.locator("h1").inner_text().startswith("Edit and send: step 4")
    assert serious_violations(page) == []
    # Every row is labelled: the verifier's row is found by its legend, and it
    # holds the name of the value, never the value.
    row = page.locator("fieldset.edit-row", has=page.locator(
        "legend", has_text="code_verifier"))
    assert row.get_by_label("Value").input_value() == "{{code_verifier}}"
    row.get_by_label("Remove").check()  # by keyboard too: a plain checkbox
    page.get_by_role("button", name="Send as a branch").click()

    assert page.locator("h1").inner_text().startswith("Branch of step 4")
    said = page.locator("#server-said")
    assert "invalid_request" in said.inner_text()
    assert "code_verifier required" in said.inner_text()
    changes = page.locator("#changes")
    assert "removed" in changes.inner_text() and "code_verifier" in changes.inner_text()
    sides = page.locator(".beside-side")
    assert sides.count() == 2
    a, b = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"]  # beside
    assert serious_violations(page) == []
    beside = page.url

    page.set_viewport_size({"width": 390, "height": 844})
    for url in (beside, f"{runner.run_url}/steps/4/edit"):
        page.goto(url)
        assert not _overflow(page), url
        assert serious_violations(page) == []

    # Large type at 1280x720: still no overflow, still clean.
    page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                               "url": live_server()}])
    page.set_viewport_size({"width": 1280, "height": 720})
    for url in (beside, f"{runner.run_url}/steps/4/edit"):
        page.goto(url)
        assert not _overflow(page), url
        assert serious_violations(page) == []
    # The original's step list names its branch.
    page.goto(f"{runner.run_url}?step=4")
    assert page.locator(".run-branch a").first.inner_text() == "Branch 1 from step 4"


@pytest.mark.no_javascript
def test_the_authorization_request_edited_by_keyboard_without_javascript(
        page, live_server):
    """The front channel, no script: the edited request goes from the browser,
    and the redirect back lands beside the original."""
    page.goto(live_server("/run/authorization-code-pkce"))
    page.get_by_role("button", name="Start the run").click()
    page.locator("#next").click()
    page.wait_for_load_state()
    page.locator("#edit-send").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/steps/1/edit")
    row = page.locator("fieldset.edit-row", has=page.locator("legend",
                                                              has_text="scope"))
    row.get_by_label("Value").fill("user-read-private")
    page.get_by_role("button", name="Send as a branch").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("alice", re.I)).first.click()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/beside")
    assert page.locator("#branch-code").inner_text() == "access_denied"
    assert "changed" in page.locator("#changes").inner_text()
    # axe needs a script: these pages are audited with it in the test above and
    # in the layout walk.
