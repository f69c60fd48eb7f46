"""The runner against a server nobody here wrote: panva's oidc-provider.

Every flow the provider offers runs to its end in "any provider" mode, set up by
the provider's discovery URL, with its own login and consent forms driven over HTTP.
"""

from __future__ import annotations

import json
import re
import subprocess
from html import unescape
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest

from flowlab.core.runner.callbacks import for_issuer
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.oidc_harness import CODE_ONLY
from tests.oidc_harness import NATIVE
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB

pytestmark = pytest.mark.interop
SCOPE = "openid offline_access profile email"


def text_of(html: str) -> str:
    """The page's text, one space between words; ``HTTP / 1.1`` (split by the
    highlighter) joined again."""
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return text.replace("HTTP / 1.1", "HTTP/1.1").replace(" : ", ": ")


def use_oidc(runner, oidc, scope=SCOPE, client=WEB, public=SPA):
    page = runner.use_provider("Use this provider", discovery_url=oidc.discovery_url,
                               client_id=client[0], client_secret=client[1] or "",
                               public_client_id=public[0], scope=scope)
    assert f"Now: Provider at {oidc.issuer}" in text_of(page.text), page.text[-2000:]
    return page


def at_provider(runner, page, user="alice"):
    """Log in and agree on oidc-provider's own forms (devInteractions)."""
    for _ in range(4):
        if "/interaction/" not in page.url:
            return page
        if 'name="login"' in page.text:
            page = submit(runner.session, page, "Sign-in", login=user, password="pw")
        else:
            page = submit(runner.session, page, "Continue")
        page = runner.follow(page)
    raise AssertionError("stuck at the provider: " + page.url)


def run_all(runner, rewrite=None):
    """Click Next to the end; ``rewrite`` may change the authorization URL."""
    for _ in range(30):
        if 'id="next"' not in runner.page.text:
            return runner.page
        link = runner.next_link()
        if link and "/auth?" in link:
            link = rewrite(link) if rewrite else link
            at_provider(runner, runner.follow(runner.session.get(
                link, allow_redirects=False, timeout=10)))
        else:
            runner.next()
    raise AssertionError("the run did not end")


def step(runner, number: int) -> str:
    return runner.get(f"{runner.run_url}?step={number}").text


def with_params(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | params
    return parts._replace(query=urlencode(query)).geturl()


def check_exports(runner):
    """Every export of the run answers 200 and parses as its format."""
    for fmt in ("md", "sh", "http", "json", "har"):
        answer = runner.session.get(f"{runner.run_url}/export.{fmt}", timeout=10)
        assert answer.status_code == 200, (fmt, answer.text[:500])
        body = answer.text
        if fmt == "sh":
            subprocess.run(["bash", "-n"], input=body, text=True, check=True)
        elif fmt == "json":
            assert json.loads(body)["steps"]
        elif fmt == "har":
            log = json.loads(body)["log"]
            assert log["version"] == "1.2" and log["entries"]
            for entry in log["entries"]:
                assert {"request", "response", "startedDateTime", "time"} <= set(entry)
                assert entry["request"]["method"] and entry["request"]["url"]
        elif fmt == "http":
            assert re.search(r"^(GET|POST) http://127\.0\.0\.[12]:\d+/", body, re.M)
        else:
            assert body.startswith("#")


def test_provider_page_shows_the_registered_callback(live_server, oidc_server):
    runner = FlowRunner(live_server)
    page = use_oidc(runner, oidc_server)
    assert live_server(for_issuer(oidc_server.issuer)) in page.text


def test_code_flow_narrowed_scope_and_no_refresh_token(live_server, oidc_server):
    """Without prompt=consent oidc-provider drops offline_access: accepted, told."""
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, scope="openid profile email offline_access")
    runner.start("authorization-code")
    # The runner sends prompt=consent with offline_access; take it out, as a
    # client that does not know OpenID Connect Core §11 would.
    page = run_all(runner, rewrite=lambda url: url.replace("prompt=consent", ""))
    assert "run-step-failed" not in page.text, text_of(page.text)[-1500:]
    assert "That is the whole flow" in page.text
    token = step(runner, 4)
    assert 'data-note="scope-narrowed"' in token
    text = text_of(token)
    assert "Asked for openid profile email offline_access" in text
    assert "Granted openid profile email" in text and "Dropped offline_access" in text
    assert "Why offline_access went missing" in text
    refresh = text_of(step(runner, 6))
    assert "No refresh token was issued" in refresh
    assert "but the server did not grant it" in refresh
    check_exports(runner)


def test_code_flow_with_consent_refreshes_and_checks_the_id_token(
        live_server, oidc_server):
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    runner.start("authorization-code")
    page = run_all(runner)
    assert "run-step-failed" not in page.text, text_of(page.text)[-1500:]
    first = unescape(step(runner, 1))
    sent = dict(parse_qsl(urlsplit(re.search(
        r'class="wire-url mono">([^<]+)<', first).group(1)).query))
    assert sent["prompt"] == "consent" and sent["scope"] == SCOPE
    assert sent["nonce"]  # shown: it ties the ID token to this run, grants nothing
    callback = text_of(step(runner, 3))
    assert f"iss {oidc_server.issuer}" in callback or oidc_server.issuer in callback
    token = step(runner, 4)
    assert "scope-narrowed" not in token
    assert "The ID token, decoded and checked" in text_of(token)
    for name in ("signature", "iss", "aud", "exp", "nonce"):
        assert re.search(rf'check-ok"><th scope="row">{name}</th>', token), name
    assert '"alg": "RS256"' in unescape(token)
    assert "GET /jwks HTTP/1.1" in text_of(token)  # the key set, fetched and shown
    api = text_of(step(runner, 5))
    assert "GET /me HTTP/1.1" in api and "userinfo endpoint" in api
    assert "alice@example.test" in api
    refresh = step(runner, 6)
    assert "run-step-done" in refresh and "refresh_token" in text_of(refresh)
    assert "No refresh token was issued" not in refresh
    assert "HTTP/1.1 200" in text_of(step(runner, 7))
    reuse = text_of(step(runner, 8))
    assert "invalid_grant" in reuse
    check_exports(runner)


def test_pkce_flow_public_client_rotates(live_server, oidc_server):
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    runner.start("authorization-code-pkce")
    page = run_all(runner)
    assert "run-step-failed" not in page.text, text_of(page.text)[-1500:]
    assert "That is the whole flow" in page.text
    token = text_of(step(runner, 4))
    assert "code_verifier" in token and "Authorization: Basic" not in token
    assert "The ID token, decoded and checked" in token
    # oidc-provider rotates a public client's refresh tokens (RFC 9700 §4.14.2).
    assert "rotates them" in text_of(step(runner, 6))
    check_exports(runner)


def test_client_credentials(live_server, oidc_server):
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, scope="api:read")
    runner.start("client-credentials")
    page = run_all(runner)
    assert "run-step-failed" not in page.text, text_of(page.text)[-1500:]
    assert "That is the whole flow" in page.text
    token = text_of(step(runner, 1))
    assert "grant_type=client_credentials" in token and "Authorization: Basic" in token
    refused = text_of(step(runner, 2))  # userinfo refuses an app-only token
    assert "GET /me HTTP/1.1" in refused and "HTTP/1.1 401" in refused
    check_exports(runner)


def test_implicit_is_not_offered(live_server, oidc_server):
    runner = FlowRunner(live_server)
    page = use_oidc(runner, oidc_server)
    assert "does not offer response_type=token" in text_of(page.text)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda url: re.sub(r"&iss=[^&]*", "", url), "iss-mismatch"),
    (lambda url: re.sub(r"iss=[^&]*", "iss=http%3A%2F%2F127.0.0.1%3A1", url),
     "iss-mismatch"),
])
def test_iss_is_required_and_checked(live_server, oidc_server, change, expected):
    """RFC 9207 §2.4: the metadata promises iss, so a missing or wrong one stops."""
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    runner.start("authorization-code-pkce").next()
    page = runner.next()  # at the provider's login page
    page = at_provider_until_callback(runner, page)
    callback = runner.last_location
    assert "iss=" in callback
    runner.follow(runner.session.get(change(callback), allow_redirects=False,
                                     timeout=10))
    text = text_of(runner.page.text)
    assert "The iss parameter did not name the expected server" in text
    assert "run-step-failed" in runner.page.text


def at_provider_until_callback(runner, page):
    """Drive the provider's forms, stopping before the browser reaches the lab."""
    for _ in range(6):
        if 'name="login"' in page.text:
            page = submit(runner.session, page, "Sign-in", login="bob", password="pw")
        elif "Continue" in page.text:
            page = submit(runner.session, page, "Continue")
        while page.is_redirect:
            target = page.headers["Location"]
            runner.last_location = target
            if "/run/callback" in target:
                return page
            page = runner.session.get(
                target if target.startswith("http") else runner_base(page) + target,
                allow_redirects=False, timeout=10)
    raise AssertionError("the provider did not send the browser back")


def hops(runner, response) -> list[str]:
    """Follow redirects as the runner does, returning every Location on the way."""
    seen = []
    while response.is_redirect:
        seen.append(response.headers["Location"])
        response = runner.session.get(
            urljoin(response.url, response.headers["Location"]),
            allow_redirects=False, timeout=10)
    runner.page = response
    return seen


def runner_base(response) -> str:
    parts = urlsplit(response.url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize(("client", "prompt", "code", "title"), [
    (CODE_ONLY, None, "invalid_scope", "invalid_scope: the server refused the scope"),
    (WEB, "none", "login_required", "login_required: the user would have to log in"),
])
def test_authorization_errors_end_the_step_clearly(live_server, oidc_server, client,
                                                   prompt, code, title):
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, client=client, public=client)
    flow = "authorization-code" if client[1] else "authorization-code-pkce"
    runner.start(flow).next()
    link = runner.next_link()
    if prompt:
        link = with_params(link, prompt=prompt)
    seen = hops(runner, runner.session.get(link, allow_redirects=False, timeout=10))
    assert any(f"error={code}" in hop for hop in seen), seen
    page = runner.page
    text = text_of(page.text)
    assert title in text and "run-step-failed" in page.text
    assert "The authorization server returned an error" in text


@pytest.mark.parametrize(("public", "code", "title"), [
    (SPA, "consent_required", "consent_required: the user has not agreed yet"),
    (NATIVE, "interaction_required",
     "interaction_required: the server needs to ask the user something"),
])
def test_prompt_none_once_logged_in(live_server, oidc_server, public, code, title):
    """Logged in at the provider, never agreed: prompt=none cannot finish."""
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, public=public)
    runner.start("authorization-code-pkce").next()
    page = runner.next()
    page = submit(runner.session, page, "Sign-in", login="carol", password="pw")
    runner.follow(page)  # now at the consent page: leave it unanswered
    runner.start("authorization-code-pkce").next()
    link = with_params(runner.next_link(), prompt="none")
    seen = hops(runner, runner.session.get(link, allow_redirects=False, timeout=10))
    assert any(f"error={code}" in hop for hop in seen), seen
    assert title in text_of(runner.page.text)


def test_unauthorized_grant_at_the_token_endpoint(live_server, oidc_server):
    """oidc-provider says invalid_request where RFC 6749 §5.2 names
    unauthorized_client; the step explains both."""
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, scope="openid", client=CODE_ONLY)
    page = runner.start("client-credentials").next()
    text = text_of(page.text)
    assert "run-step-failed" in page.text
    assert "requested grant type is not allowed for this client" in text
    assert "where RFC 6749 names unauthorized_client" in text


def test_error_page_instead_of_a_redirect(live_server, oidc_server):
    """A redirect URI the client is not registered for: the provider shows its own
    page (RFC 6749 §4.1.2.1); the lab said beforehand what that means."""
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    runner.start("authorization-code-pkce").next()
    link = with_params(runner.next_link(), redirect_uri="http://127.0.0.1:9/cb")
    answer = runner.session.get(link, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "redirect_uri did not match" in answer.text
    told = text_of(step(runner, 1))
    assert "If the server shows an error page instead of sending you back" in told
