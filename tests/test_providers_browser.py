"""A standalone sandbox on its own port, used as "any provider" from a real browser."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.test_providers import register_lab_apps
from tests.test_runner_browser import _run_flow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("flow_id", ["authorization-code", "authorization-code-pkce",
                                     "client-credentials", "implicit"])
def test_every_offered_flow_against_a_discovered_provider(page, live_server,
                                                          sandbox_processes,
                                                          sandbox_env, flow_id):
    (url,) = sandbox_processes(1)
    web, secret, public = register_lab_apps(
        live_server, url, sandbox_env["FLOWLAB_SANDBOX_DATABASE"])
    page.goto(live_server("/provider"))
    form = page.locator("form", has=page.get_by_role("button",
                                                      name="Use this provider"))
    form.get_by_label("Discovery URL").fill(
        url + "/.well-known/oauth-authorization-server/sandbox")
    form.get_by_label("API base URL").fill(url + "/sandbox")
    form.get_by_label("Client ID", exact=True).fill(web.client_id)
    form.get_by_label("Client secret").fill(secret)
    form.get_by_label("Public client ID").fill(public.client_id)
    form.get_by_role("button", name="Use this provider").click()
    assert f"Now: Provider at {url}/sandbox" in page.locator("main").inner_text()
    assert serious_violations(page) == []
    _run_flow(page, live_server, flow_id)
    assert page.locator(".run-step-failed").count() == 0
    assert "That is the whole flow" in page.content()
