"""The FAPI 2.0 flow against oidc-provider in a real Chromium: the run registers
its own client there, pushes its request, and the browser signs in on the
provider's own pages carrying only client_id and request_uri (RFC 9126 §4)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.a11y import serious_violations
from tests.learner import at_oidc_provider
from tests.learner import run_to_the_end
from tests.learner import use_oidc_provider

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def test_fapi2_flow_in_chromium_against_oidc_provider(live_server, oidc_server,
                                                      provider_page):
    page = provider_page
    use_oidc_provider(page, live_server, oidc_server, "openid offline_access")
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
