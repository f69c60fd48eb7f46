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

from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end
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
    consent = []

    def by_its_document(href: str) -> None:
        if "/authorize?" in href:
            client_id = parse_qs(urlsplit(href).query)["client_id"]
            assert client_id == [live_server(DOCUMENT)]

    def read_consent(page) -> None:
        consent.append(page.locator("main").inner_text())
        _fits(page, "consent")

    run_url = run_to_the_end(
        page, lambda page: at_the_sandbox(page, read_consent), by_its_document)
    consent = " ".join(consent)
    assert "named by its own metadata document" in consent
    assert live_server(DOCUMENT) in consent
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow." in page.content()
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
