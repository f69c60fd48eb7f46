"""The FAPI 2.0 flow against oidc-provider in a real Chromium: the run registers
its own client there, pushes its request, and the browser signs in on the
provider's own pages carrying only client_id and request_uri (RFC 9126 §4)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.a11y import serious_violations
from tests.learner import at_oidc_provider
from tests.learner import run_to_the_end
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def test_fapi2_flow_in_chromium_against_oidc_provider(live_server, oidc_server,
                                                      chromium):
    context = chromium.new_context()

    def guard(route):  # the provider's pages import a web font: keep it offline
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "127.0.0.2"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    try:
        page.goto(live_server("/provider"))
        form = page.locator("form", has=page.locator("#d-url"))
        form.locator("#d-url").fill(oidc_server.discovery_url)
        form.locator("#d-scope").fill("openid offline_access")
        form.locator("#d-id").fill(WEB[0])
        form.locator("#d-secret").fill(WEB[1])
        form.locator("#d-public").fill(SPA[0])
        form.get_by_role("button", name="Use this provider").click()
        page.goto(live_server("/run/fapi2"))
        def pushed(href: str) -> None:
            if "/auth?" in href:
                assert set(dict(p.split("=", 1) for p in urlsplit(
                    href).query.split("&"))) == {"client_id", "request_uri"}

        run_to_the_end(page, at_oidc_provider("dana"), pushed)
        body = page.content()
        assert "That is the whole flow." in body
        assert "run-step-failed" not in body
        assert serious_violations(page) == []
    finally:
        context.close()
