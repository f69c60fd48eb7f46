"""One flow against oidc-provider in a real Chromium: its login and consent pages
are the provider's own, and the browser follows every redirect itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.oidc_harness import SPA
from tests.oidc_harness import WEB

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def test_pkce_flow_in_chromium(live_server, oidc_server, chromium):
    context = chromium.new_context()
    outside = []

    def guard(route):  # the provider's pages import a web font: keep it offline
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "127.0.0.2"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    try:
        page.goto(live_server("/provider"))
        form = page.locator("form", has=page.locator("#d-url"))
        form.locator("#d-url").fill(oidc_server.discovery_url)
        form.locator("#d-scope").fill("openid offline_access profile email")
        form.locator("#d-id").fill(WEB[0])
        form.locator("#d-secret").fill(WEB[1])
        form.locator("#d-public").fill(SPA[0])
        form.get_by_role("button", name="Use this provider").click()
        page.goto(live_server("/run/authorization-code-pkce"))
        page.get_by_role("button", name="Start").click()
        for _ in range(20):
            if page.locator("#next").count() == 0:
                break
            with page.expect_navigation():
                page.locator("#next").click()
            if "/interaction/" in page.url:
                page.fill('input[name="login"]', "dana")
                page.fill('input[name="password"]', "pw")
                page.get_by_role("button", name="Sign-in").click()
                page.get_by_role("button", name="Continue").click()
                page.wait_for_url("**/runs/**")
        body = page.content()
        assert "That is the whole flow" in body
        assert "run-step-failed" not in body
        page.goto(page.url.split("?")[0].split("#")[0] + "?step=4")
        assert "The ID token, decoded and checked" in page.content()
        assert all("127.0.0.1" not in url for url in outside)
    finally:
        context.close()
