"""A flow run in Chromium as a learner runs it: "Start the run", then "Next…" to the
end, signing in at the provider whenever a step sends the browser there.

The sign-in is the provider's own: ``at_the_sandbox`` ("Continue as Alice", then
"Agree" when asked) or ``at_oidc_provider(login)`` (oidc-provider's interaction
pages). The sandbox remembers an approval, so its consent page comes only for an
app, or scopes, Alice has not approved yet, or when the run asks again.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.oidc_harness import SPA
from tests.oidc_harness import WEB

RUN_PAGE = re.compile(r"/runs/")


def run_to_the_end(page, sign_in: Callable, check_link: Callable | None = None,
                   most: int = 30) -> str:
    """From a flow's start page to the run's last step; the run's URL.

    ``check_link(href)`` sees each Next link before it is followed; ``sign_in(page)``
    is called when following one left the lab for the provider.
    """
    with page.expect_navigation():  # read the run page, not the start page
        page.get_by_role("button", name="Start the run").click()
    for _ in range(most):
        if not page.locator("#next").count():
            break
        href = page.locator("#next").get_attribute("href") or ""
        if check_link:
            check_link(href)
        with page.expect_navigation():
            page.locator("#next").click()
        if not RUN_PAGE.search(page.url):
            sign_in(page)
            page.wait_for_url(RUN_PAGE)
    return page.url.split("?")[0].split("#")[0]


def use_oidc_provider(page, live_server, oidc_server, scope: str,
                      api: str = "") -> None:
    """Point the lab at the suite's oidc-provider by its discovery URL, with the
    demo apps registered there, as a learner does on /provider."""
    page.goto(live_server("/provider"))
    form = page.locator("form", has=page.locator("#d-url"))
    form.locator("#d-url").fill(oidc_server.discovery_url)
    if api:
        form.locator("#d-api").fill(api)
    form.locator("#d-scope").fill(scope)
    form.locator("#d-id").fill(WEB[0])
    form.locator("#d-secret").fill(WEB[1])
    form.locator("#d-public").fill(SPA[0])
    form.get_by_role("button", name="Use this provider").click()


def at_the_sandbox(page, on_consent: Callable | None = None) -> None:
    """Sign in as Alice if asked, then Agree if asked; ``on_consent(page)`` reads
    the consent page first."""
    alice = page.get_by_role("button", name=re.compile("Continue as Alice"))
    if alice.count():
        with page.expect_navigation():
            alice.click()
    agree = page.get_by_role("button", name="Agree")
    if not RUN_PAGE.search(page.url) and agree.count():
        if on_consent:
            on_consent(page)
        with page.expect_navigation():
            agree.click()


def at_oidc_provider(login: str) -> Callable:
    """oidc-provider's dev interactions: any login with any password, then
    Continue on its consent prompt."""
    def sign_in(page) -> None:
        page.fill('input[name="login"]', login)
        page.fill('input[name="password"]', "pw")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
    return sign_in
