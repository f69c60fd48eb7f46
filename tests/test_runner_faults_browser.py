"""The page of a step cut off after it sent its code, in a real Chromium: it says
what happened, offers to sign in again, and passes axe."""

from __future__ import annotations

import pytest

from tests import standin
from tests.a11y import serious_violations
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.faults import CutAccounts
from tests.flowrunner import FlowRunner

pytestmark = pytest.mark.browser


def test_sign_in_again_after_a_step_cut_off(page, serve):
    accounts = CutAccounts()
    fake = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    try:
        lab = serve(SPOTIFY_ACCOUNTS_URL=accounts.url, SPOTIFY_API_URL=fake.url)
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id="0123456789abcdef" * 2,
                            client_secret="faults-browser-secret-0123")
        runner.start("authorization-code-pkce")
        runner.next()
        runner.authorize()
        runner.next()  # the token request is cut off
        page.context.add_cookies([{"name": c.name, "value": c.value, "url": lab.url}
                                  for c in runner.session.cookies])
        page.goto(runner.run_url)
        notice = page.locator("#spent")
        assert "may have used the code" in notice.inner_text()
        assert page.locator("#next").count() == 0
        assert serious_violations(page) == []
        page.get_by_role("button", name="Sign in again").click()
        page.wait_for_url(runner.run_url)
        assert "authorization request" in page.locator(".flash").inner_text()
        assert page.locator("#spent").count() == 0
        assert "Next" in page.locator("#next").inner_text()
    finally:
        fake.close()
        accounts.close()
