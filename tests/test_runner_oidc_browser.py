"""Sign in with OpenID Connect in a real Chromium, against oidc-provider: the
provider's own sign-in pages, the id_token checks on the step page, axe clean."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.a11y import serious_violations
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def test_sign_in_with_openid_connect_in_chromium(live_server, oidc_server, chromium):
    context = chromium.new_context()
    errors = []

    def guard(route):  # the provider's pages import a web font: keep it offline
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "127.0.0.2"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and "127.0.0.1" in page.url
            and errors.append(m.text))
    try:
        page.goto(live_server("/provider"))
        form = page.locator("form", has=page.locator("#d-url"))
        form.locator("#d-url").fill(oidc_server.discovery_url)
        form.locator("#d-scope").fill("openid profile email")
        form.locator("#d-id").fill(WEB[0])
        form.locator("#d-secret").fill(WEB[1])
        form.locator("#d-public").fill(SPA[0])
        form.get_by_role("button", name="Use this provider").click()
        page.goto(live_server("/run/sign-in-oidc"))
        with page.expect_navigation():  # read the run page, not the start page
            page.get_by_role("button", name="Start the run").click()
        for _ in range(20):
            if page.locator("#next").count() == 0:
                break
            with page.expect_navigation():
                page.locator("#next").click()
            if "/interaction/" in page.url:
                page.fill('input[name="login"]', "erin")
                page.fill('input[name="password"]', "pw")
                page.get_by_role("button", name="Sign-in").click()
                page.get_by_role("button", name="Continue").click()
                page.wait_for_url("**/runs/**")
        assert "That is the whole flow." in page.content()
        assert "run-step-failed" not in page.content()
        page.goto(page.url.split("?")[0].split("#")[0] + "?step=5")
        table = page.get_by_role("table", name="The checks of OpenID Connect Core")
        for name in ("header", "kid", "signature", "iss", "aud", "exp", "nonce",
                     "at_hash"):
            assert table.get_by_role("rowheader", name=name, exact=True).count() == 1
        assert table.locator("tr.check-failed").count() == 0
        assert serious_violations(page) == []
        page.goto(page.url.split("?")[0] + "?step=1")
        assert "openid-configuration" in page.content()
        assert serious_violations(page) == []
        assert errors == []
    finally:
        context.close()
