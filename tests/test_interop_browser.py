"""One flow against oidc-provider in a real Chromium: its login and consent pages
are the provider's own, and the browser follows every redirect itself."""

from __future__ import annotations

import pytest

from tests.learner import at_oidc_provider
from tests.learner import run_to_the_end
from tests.learner import use_oidc_provider

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def test_pkce_flow_in_chromium(live_server, oidc_server, provider_page):
    page = provider_page
    use_oidc_provider(page, live_server, oidc_server,
                      "openid offline_access profile email")
    page.goto(live_server("/run/authorization-code-pkce"))
    run_url = run_to_the_end(page, at_oidc_provider("dana"))
    body = page.content()
    assert "That is the whole flow" in body
    assert "run-step-failed" not in body
    page.goto(run_url + "?step=4")
    assert "The ID token, decoded and checked" in page.content()
    assert all("127.0.0.1" not in url for url in page.outside)
