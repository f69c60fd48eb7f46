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
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB
from tests.test_interop_mcp import OTHER
from tests.test_interop_mcp import PRM
from tests.test_interop_mcp import SCOPE
from tests.test_interop_mcp import mcp_log

pytestmark = [pytest.mark.interop, pytest.mark.browser]
STEPS = 11


def test_the_mcp_flow_in_chromium_against_oidc_provider(live_server, oidc_server,
                                                        chromium):
    context = chromium.new_context()

    def guard(route):  # the provider's pages import a web font: keep it offline
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "127.0.0.2"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and "127.0.0.1" in page.url
            and errors.append(m.text))
    try:
        page.goto(live_server("/provider"))
        form = page.locator("form", has=page.locator("#d-url"))
        form.locator("#d-url").fill(oidc_server.discovery_url)
        form.locator("#d-api").fill(oidc_server.resource)
        form.locator("#d-scope").fill(SCOPE)
        form.locator("#d-id").fill(WEB[0])
        form.locator("#d-secret").fill(WEB[1])
        form.locator("#d-public").fill(SPA[0])
        form.get_by_role("button", name="Use this provider").click()
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
        assert errors == []
        # The MCP server's side of the wire: the challenge, its metadata, the
        # call with a token for it, the refusal of the other server's token.
        assert mcp_log(oidc_server, resource, since) == [
            "GET /mcp/v1/me 401 no token", f"GET {PRM}/mcp 200",
            f"GET /mcp/v1/me 200 aud={resource}",
            f"GET /mcp/v1/me 401 invalid_token aud={OTHER}"]
    finally:
        context.close()
