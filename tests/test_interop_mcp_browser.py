"""The MCP flow in a real Chromium against oidc-provider and the small MCP server
beside it (``tests/oidc/mcp-server.mjs``): set up as "any provider" on the
provider page, signed in on oidc-provider's own pages, each step page axe clean."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.a11y import serious_violations
from tests.learner import at_oidc_provider
from tests.learner import run_to_the_end
from tests.learner import use_oidc_provider
from tests.test_interop_mcp import OTHER
from tests.test_interop_mcp import PRM
from tests.test_interop_mcp import SCOPE
from tests.test_interop_mcp import mcp_log

pytestmark = [pytest.mark.interop, pytest.mark.browser]
STEPS = 11


def test_the_mcp_flow_in_chromium_against_oidc_provider(live_server, oidc_server,
                                                        provider_page):
    page = provider_page
    use_oidc_provider(page, live_server, oidc_server, SCOPE, api=oidc_server.resource)
    resource, since = oidc_server.resource, len(oidc_server.output())
    page.goto(live_server("/run/mcp"))

    def with_resources(href: str) -> None:
        if "/auth?" in href:  # PKCE and both resources (RFC 8707 §2.1)
            query = parse_qs(urlsplit(href).query)
            assert query["resource"] == [resource, OTHER]
            assert query["code_challenge_method"] == ["S256"]

    run_url = run_to_the_end(page, at_oidc_provider("frank"), with_resources)
    assert "That is the whole flow." in page.content()
    assert page.locator(".run-step-done").count() == STEPS
    assert page.locator(".run-step-failed").count() == 0
    # The challenge, both metadata documents, the registration, the decoded
    # token and the refusal: the pages this provider fills differently.
    for number in (1, 2, 3, 4, 8, 11):
        page.goto(f"{run_url}?step={number}")
        assert serious_violations(page) == [], f"step {number}"
    assert "invalid_token" in page.content()
    # The MCP server's side of the wire: the challenge, its metadata, the
    # call with a token for it, the refusal of the other server's token.
    assert mcp_log(oidc_server, resource, since) == [
        "GET /mcp/v1/me 401 no token", f"GET {PRM}/mcp 200",
        f"GET /mcp/v1/me 200 aud={resource}",
        f"GET /mcp/v1/me 401 invalid_token aud={OTHER}"]
