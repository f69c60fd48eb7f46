"""The MCP flow's client ID metadata document variant in a real Chromium on a
phone's width: the way picked on the start page, every step by Next alone,
Continue as Alice and Agree at the sandbox (whose consent page names the agent by
its document), to the end; the pages this variant changes audited with axe and
nothing wider than 390 px, then its own step at 1440 px and in large type."""

from __future__ import annotations

import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.test_runner_mcp_browser import STEPS
from tests.test_runner_mcp_browser import _fits

pytestmark = pytest.mark.browser

DOCUMENT = "/run/mcp/client-metadata.json"


def test_the_mcp_run_by_metadata_document_on_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/provider"))
    page.get_by_role("button", name="Use the sandbox (best practice)").click()
    page.goto(live_server("/run/mcp"))
    page.get_by_label(re.compile("By a client ID metadata document")).check()
    _fits(page, "start page")
    with page.expect_navigation():  # read the run page, not the start page
        page.get_by_role("button", name="Start the run").click()
    consent = ""
    while page.locator("#next").count():
        href = page.locator("#next").get_attribute("href") or ""
        with page.expect_navigation():
            page.locator("#next").click()
        if "/authorize?" in href:
            client_id = parse_qs(urlsplit(href).query)["client_id"]
            assert client_id == [live_server(DOCUMENT)]
            page.get_by_role("button", name=re.compile("Continue as Alice")).click()
            consent = page.locator("main").inner_text()
            _fits(page, "consent")
            page.get_by_role("button", name="Agree").click()
            page.wait_for_url(re.compile(r"/runs/"))
    assert "named by its own metadata document" in consent
    assert live_server(DOCUMENT) in consent
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow." in page.content()
    run_url = page.url.split("?")[0]
    for number in (4, 5, 6):
        page.goto(f"{run_url}?step={number}")
        _fits(page, f"step {number}")
        assert page.locator("tr.unannotated").count() == 0, f"step {number}"
    page.goto(f"{run_url}?step=4")  # the document, as it went over the wire
    assert f'"client_id": "{live_server(DOCUMENT)}"' in page.locator(
        "main").inner_text()
    for width, height, large in ((1440, 900, False), (1280, 720, True)):
        page.set_viewport_size({"width": width, "height": height})
        if large:
            page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                                       "url": live_server.url}])
        page.goto(f"{run_url}?step=4")
        _fits(page, f"step 4 at {width} px")
    assert page.console_errors == []
