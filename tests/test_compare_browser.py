"""Compare with… in a real Chromium: side by side when wide, stacked on a phone,
differences marked by words and border styles, not by colour alone."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.a11y import serious_violations
from tests.flowrunner import FlowRunner

pytestmark = pytest.mark.browser


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box, "the element is laid out"
    return box


def test_compare_side_by_side_then_stacked(page, live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    left = runner.run_url.rsplit("/", 1)[1]
    runner.start("authorization-code").run_all()
    right = runner.run_url.rsplit("/", 1)[1]
    # The browser takes over the runs' owner: the same session cookie.
    page.context.add_cookies([{"name": c.name, "value": c.value,
                               "url": live_server()} for c in runner.session.cookies])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server("/compare?" + urlencode({"run": left, "other": right})))
    assert page.locator("h1").inner_text() == "Compare the token request"
    assert serious_violations(page) == []

    sides = page.locator(".compare-pair").first.locator(".compare-side")
    a, b = _box(sides.nth(0)), _box(sides.nth(1))
    assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"]
    changed = page.locator("table.diff tr.diff-changed").first
    cells = changed.locator("td")
    assert abs(_box(cells.nth(0))["y"] - _box(cells.nth(1))["y"]) < 1

    # Each difference says what it is in words, and its row has a border that the
    # rows without a difference do not.
    for state, word in (("changed", "changed"), ("only-right", "only in B")):
        row = page.locator(f"table.diff tr.diff-{state}").first
        mark = row.locator(".diff-mark")
        assert mark.is_visible() and mark.inner_text() == word
        style = row.locator("th").evaluate("e => getComputedStyle(e).borderLeftStyle")
        assert style in ("solid", "dashed")
    same = page.locator("table.diff tr.diff-same th").first
    assert same.evaluate("e => getComputedStyle(e).borderLeftStyle") == "none"

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    a, b = _box(sides.nth(0)), _box(sides.nth(1))
    assert b["y"] >= a["y"] + a["height"]
    cell_a, cell_b = _box(cells.nth(0)), _box(cells.nth(1))
    assert cell_b["y"] >= cell_a["y"] + cell_a["height"]
    assert "B" in cells.nth(1).evaluate(
        "e => getComputedStyle(e, '::before').content")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert serious_violations(page) == []
