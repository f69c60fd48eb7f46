"""Sign in with OpenID Connect in a real Chromium, against oidc-provider (the
provider's own sign-in pages) and against the sandbox's best-practice issuer
("Continue as Alice", "Agree"): the id_token checks on the step page, UserInfo's
answer, axe clean."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.learner import at_oidc_provider
from tests.learner import at_the_sandbox
from tests.learner import run_to_the_end
from tests.learner import use_oidc_provider

pytestmark = pytest.mark.browser
ORDER = ("header", "kid", "signature", "iss", "aud", "exp", "nonce", "at_hash")


def introspect_and_revoke(page, run_url: str, api: str) -> None:
    """Introspect and revoke, as offered at the end of the run (RFC 7662, RFC
    7009): three more steps, and the API then refuses the token."""
    page.goto(run_url)
    with page.expect_navigation():
        page.get_by_role("button", name="Introspect and revoke").click()
    while page.locator("#next").count():
        with page.expect_navigation():
            page.locator("#next").click()
    assert "That is the whole flow." in page.content()
    assert page.locator(".run-step-failed").count() == 0
    seen = []
    for number in (7, 8, 9):
        page.goto(f"{run_url}?step={number}")
        seen.append(page.locator("main").inner_text())
    assert "introspection" in seen[0] and '"active": true' in seen[0]
    assert "revocation" in seen[1] and "HTTP/1.1 200" in seen[1]
    assert f"GET {api}" in seen[2] and "HTTP/1.1 401" in seen[2]
    assert serious_violations(page) == []


@pytest.mark.interop
def test_sign_in_with_openid_connect_in_chromium(live_server, oidc_server,
                                                 provider_page):
    page = provider_page
    use_oidc_provider(page, live_server, oidc_server, "openid profile email")
    page.goto(live_server("/run/sign-in-oidc"))
    run_url = run_to_the_end(page, at_oidc_provider("erin"))
    assert "That is the whole flow." in page.content()
    assert "run-step-failed" not in page.content()
    page.goto(run_url + "?step=5")
    table = page.get_by_role("table", name="The checks of OpenID Connect Core")
    for name in ORDER:
        assert table.get_by_role("rowheader", name=name, exact=True).count() == 1
    assert table.locator("tr.check-failed").count() == 0
    assert serious_violations(page) == []
    page.goto(run_url + "?step=1")
    assert "openid-configuration" in page.content()
    assert serious_violations(page) == []
    introspect_and_revoke(page, run_url, "/me")


def test_sign_in_with_openid_connect_in_chromium_at_the_sandbox(page, live_server):
    """The best-practice issuer as its own OpenID provider: discovery, the sandbox's
    sign-in and consent, every id_token check of Core §3.1.3.7 passing on the page,
    and UserInfo answering with who signed in."""
    page.goto(live_server("/provider"))
    page.get_by_role("button", name="Use the sandbox (best practice)").click()
    page.goto(live_server("/run/sign-in-oidc"))
    assert serious_violations(page) == []
    def at_best_practice(href: str) -> None:
        if "/authorize?" in href:
            assert "/sandbox/best-practice/authorize?" in href

    def audited(page) -> None:
        assert serious_violations(page) == []

    # Consent is asked once per app: an earlier test on this server may have had
    # Alice approve it already (the sandbox remembers), so it is audited if shown.
    run_url = run_to_the_end(page, lambda page: at_the_sandbox(page, audited),
                             at_best_practice)
    assert "That is the whole flow." in page.content()
    assert page.locator(".run-step-failed").count() == 0
    page.goto(run_url + "?step=1")
    assert "/sandbox/best-practice/.well-known/openid-configuration" in (
        page.content())
    assert serious_violations(page) == []
    page.goto(run_url + "?step=5")
    table = page.get_by_role("table", name="The checks of OpenID Connect Core")
    for name in ORDER:
        row = table.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=name, exact=True))
        assert row.count() == 1, name
        assert "check-ok" in (row.get_attribute("class") or ""), name
    assert table.locator("tr.check-failed").count() == 0
    assert serious_violations(page) == []
    page.goto(run_url + "?step=6")
    userinfo = page.locator("main").inner_text()
    assert "GET /sandbox/best-practice/api/userinfo" in userinfo
    assert "HTTP/1.1 200" in userinfo and '"sub"' in userinfo
    assert serious_violations(page) == []
    introspect_and_revoke(page, run_url, "/sandbox/best-practice/api/userinfo")
