"""The JWT workbench and "explain this value" in a real Chromium: the forms work
without JavaScript, the answers fit a phone, and axe passes (light and dark, and
in large type on a projector)."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.test_layout_browser import STICKING_OUT
from tests.test_workbench import CHALLENGE
from tests.test_workbench import DIGEST_HEX
from tests.test_workbench import VERIFIER
from tests.test_workbench import sandbox_token

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth - innerWidth"


def audited(page) -> None:
    """Nothing sticks out; axe passes in both colour schemes."""
    assert page.evaluate(FITS) <= 0
    assert page.evaluate(STICKING_OUT) == []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == []
    page.emulate_media(color_scheme="light")


def work_out_a_challenge(page, live_server) -> None:
    page.goto(live_server("/inspect/value"))
    page.get_by_label("code_verifier", exact=True).fill(VERIFIER)
    page.get_by_label("code_challenge to compare").fill(CHALLENGE)
    page.get_by_role("button", name="Work it out").click()
    assert DIGEST_HEX in page.locator("#worked").inner_text()
    assert "matches the S256 challenge" in page.get_by_role("status").inner_text()


def check_a_sandbox_token(page, live_server) -> None:
    page.goto(live_server("/inspect/jwt"))
    page.get_by_label("The JWT").fill(sandbox_token(live_server))
    page.get_by_label("Fetch the issuer's keys").check()
    page.get_by_role("button", name="Check the signature").click()
    assert page.get_by_role("heading", name="Signature valid").is_visible()
    assert "jwks_uri" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Fetch the issuer's keys").is_checked()


@pytest.mark.no_javascript
def test_both_pages_work_without_javascript(page, live_server):
    work_out_a_challenge(page, live_server)
    page.get_by_role("link", name="A Basic Authorization header decoded").click()
    page.get_by_label("The Authorization header's value").fill(
        "Basic bXktYXBwOnMzY3JldC12YWx1ZS10aGF0LWlzLWxvbmc=")
    page.get_by_role("button", name="Work it out").click()
    assert "s3cr…long" in page.locator("#worked").inner_text()
    assert "s3cret-value" not in page.content()
    page.get_by_role("link", name="the JWT workbench").click()
    page.wait_for_url("**/inspect/jwt")
    check_a_sandbox_token(page, live_server)


def test_both_pages_fit_a_phone_and_pass_axe(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/inspect/value", "/inspect/jwt"):
        page.goto(live_server(path))
        audited(page)
    work_out_a_challenge(page, live_server)
    audited(page)
    check_a_sandbox_token(page, live_server)
    audited(page)


def test_the_workbench_in_large_type_on_a_projector(page, live_server):
    page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                               "url": live_server()}])
    page.set_viewport_size({"width": 1280, "height": 720})
    check_a_sandbox_token(page, live_server)
    audited(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server("/inspect/value?what=thumbprint"))
    page.get_by_label("The JWK, as JSON").fill(
        '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}')
    page.get_by_role("button", name="Work it out").click()
    assert "3. base64url without padding" in page.locator("#worked").inner_text()
    audited(page)
