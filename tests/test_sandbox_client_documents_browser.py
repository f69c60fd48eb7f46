"""A client known by its metadata document, in a real Chromium: the consent page
marks the document's name as the app's own claim, and passes the axe audit
(draft-ietf-oauth-client-id-metadata-document)."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest

from tests.a11y import serious_violations
from tests.test_sandbox_client_documents import Documents
from tests.test_sandbox_client_documents import public_document

pytestmark = pytest.mark.browser


@pytest.fixture
def documents():
    served = Documents()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_consent_for_a_document_client(page, live_server, documents):
    landing = live_server("/sandbox/")
    url = documents.put(public_document(redirect_uris=[landing]))
    params = {"response_type": "code", "client_id": url, "redirect_uri": landing,
              "state": "doc-state", "scope": "user-read-email",
              "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256"}
    page.goto(live_server("/sandbox/best-practice/authorize?" + urlencode(params)))
    page.get_by_role("button", name="Continue as Alice Lindqvist").click()
    page.wait_for_selector("text=would like to access your sandbox account")
    assert page.get_by_text("not verified by the sandbox").is_visible()
    assert page.locator("h1").inner_text().startswith("Agent Smith's MCP client")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth <= 390")
    page.get_by_role("button", name="Agree").click()
    page.wait_for_url("**/sandbox/?*")
    found = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert found["state"] == "doc-state" and "code" in found
