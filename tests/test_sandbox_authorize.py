"""The sandbox's authorization endpoint, login and consent (RFC 6749 §3.1, §4.1.1,
§4.1.2; RFC 9207; checklist items 1-10, 28, 37)."""

from __future__ import annotations

import re

import pytest

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import fragment
from tests.sandbox_helpers import make_client
from tests.sandbox_helpers import query

DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def params(client, **extra) -> dict:
    return {"response_type": "code", "client_id": client.client_id,
            "redirect_uri": CALLBACK, "state": "st-1", **extra}


def assert_error_page(response, text: str) -> None:
    """An error page on the server: 400, no redirect (checklist 1, 2)."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert text in response.text
    assert_frame_headers(response)


def assert_frame_headers(response) -> None:
    """Checklist 8, 9: no framing, no referrer, no CORS."""
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Access-Control-Allow-Origin" not in response.headers


PROBES = [
    CALLBACK + "/x", CALLBACK + "/", CALLBACK + "?a=1", CALLBACK + "#frag",
    "https://127.0.0.1:8765/run/callback", "HTTP://127.0.0.1:8765/run/callback",
    "http://127.0.0.1:8765/RUN/callback", "http://127.0.0.2:8765/run/callback",
    "http://localhost:8765/run/callback", "http://[::1]:8765/run/Callback",
    # Checklist 3: open-redirect probes.
    "https://evil.example/cb", "//evil.example", "/run/callback",
    "http://127.0.0.1:5000@evil.example/run/callback",
    "http://127.0.0.1:5000.evil.example/run/callback",
    "http://127.0.0.1:8765/run/callback/../x", "http://127.0.0.1:8765/x/../run/callback",
    "http://127.0.0.1:8765/run%2Fcallback", "http://127.0.0.1:8765/run/%63allback",
    "http://127.0.0.1:8765/run/callback%2e", CALLBACK + "?next=https://evil.example",
    "http://127.0.0.1:-1/run/callback", "http://127.0.0.1:99999/run/callback",
    "http://127.0.0.1:080/run/callback", "javascript:alert(1)//",
]


@pytest.mark.parametrize("redirect_uri", PROBES)
def test_redirect_uri_must_match_exactly(sandbox, redirect_uri):
    """Checklist 1, 3: every probe gets the error page, even for a signed-in user."""
    sandbox.authorize(params(sandbox.web), decision=None)  # sign in first
    response = sandbox.browser.get(
        sandbox.url("/authorize"), allow_redirects=False,
        params=params(sandbox.web, redirect_uri=redirect_uri),
    )
    assert_error_page(response, "INVALID_CLIENT: ")
    assert re.search(r"INVALID_CLIENT: (Invalid|Insecure) redirect URI", response.text)


@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1/run/callback", "http://127.0.0.1:1/run/callback",
    "http://127.0.0.1:65535/run/callback", "http://[::1]:5000/run/callback",
])
def test_port_free_loopback_registration_accepts_any_port(sandbox, redirect_uri):
    """RFC 8252 §7.3: only the port may vary."""
    response = sandbox.authorize(params(sandbox.web, redirect_uri=redirect_uri))
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith(redirect_uri + "?code=")


def test_registered_port_and_host_case_are_exact(sandbox, live_server):
    client, _ = make_client(live_server.app, uris=(
        "http://127.0.0.1:5000/callback", "https://app.example/cb"))
    for uri in ("http://127.0.0.1:5001/callback", "http://127.0.0.1/callback",
                "https://APP.example/cb", "https://app.example:443/cb"):
        response = sandbox.browser.get(sandbox.url("/authorize"), allow_redirects=False,
                                       params=params(client, redirect_uri=uri))
        assert_error_page(response, "INVALID_CLIENT: Invalid redirect URI")
    ok = sandbox.authorize(params(client, redirect_uri="https://app.example/cb"))
    assert ok.headers["Location"].startswith("https://app.example/cb?code=")


@pytest.mark.parametrize("change, text", [
    ({"client_id": "no-such-client"}, "INVALID_CLIENT: Invalid client"),
    ({"client_id": None}, "Missing required parameter: client_id"),
    ({"redirect_uri": None}, "Missing required parameter: redirect_uri"),
    ({"redirect_uri": "http://evil.example/cb"},
     "INVALID_CLIENT: Insecure redirect URI"),
])
def test_untrusted_requests_get_spotify_error_pages(sandbox, change, text):
    """Checklist 2 with Spotify's texts (wire spec §4A)."""
    values = {k: v for k, v in {**params(sandbox.web), **change}.items() if v}
    response = sandbox.browser.get(sandbox.url("/authorize"), params=values,
                                   allow_redirects=False)
    assert_error_page(response, text)


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_duplicate_client_id_or_redirect_uri_is_an_error_page(sandbox, name):
    """Checklist 5."""
    pairs = list(params(sandbox.web).items()) + [(name, params(sandbox.web)[name])]
    response = sandbox.browser.get(sandbox.url("/authorize"), params=pairs,
                                   allow_redirects=False)
    assert_error_page(response, f"Duplicate {name} parameter.")


def test_duplicate_code_challenge_is_invalid_request(sandbox):
    sandbox.approve(sandbox.spa)
    pairs = list(params(sandbox.spa).items()) + [
        ("code_challenge", "a" * 43), ("code_challenge", "b" * 43),
        ("code_challenge_method", "S256")]
    found = query(sandbox.authorize(pairs).headers["Location"])
    assert found["error"] == "invalid_request"
    assert found["error_description"] == "Duplicate code_challenge parameter."


def test_login_then_consent_then_code_with_state_and_iss(sandbox):
    """Login and consent are POSTs answered with 303 (checklist 10), iss (37)."""
    page = sandbox.browser.get(sandbox.url("/authorize"), allow_redirects=False,
                               params=params(sandbox.web, scope="user-read-email",
                                             show_dialog="true", extra="ignored"))
    assert page.status_code == 200 and "Continue as" in page.text
    assert_frame_headers(page)
    login = sandbox.submit(page, {"user": "bob"})
    assert login.status_code == 303
    consent = sandbox.browser.get(sandbox.base + login.headers["Location"],
                                  allow_redirects=False)
    assert "See your email address" in consent.text and "Agree" in consent.text
    assert "form-action 'self' http://127.0.0.1:8765" in consent.headers[
        "Content-Security-Policy"]
    assert_frame_headers(consent)
    done = sandbox.submit(consent, {"decision": "agree"})
    assert done.status_code == 303
    assert_frame_headers(done)
    found = query(done.headers["Location"])
    assert set(found) == {"code", "state", "iss"}
    assert found["state"] == "st-1" and found["iss"] == sandbox.issuer


def test_cancel_gives_access_denied_with_state_and_iss(sandbox):
    response = sandbox.authorize(params(sandbox.web, show_dialog="true"),
                                 decision="cancel")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    assert query(location) == {"error": "access_denied", "state": "st-1",
                               "iss": sandbox.issuer}


def test_state_is_echoed_byte_for_byte(sandbox):
    state = "a b+c/d?e=f&g%h é"
    response = sandbox.authorize(params(sandbox.web, state=state))
    assert query(response.headers["Location"])["state"] == state


ERRORS = [
    ({"response_type": "foo"}, "unsupported_response_type",
     "response_type must be code or token"),
    ({"response_type": None}, "invalid_request", "response_type must be code or token"),
    ({"scope": "user-read-email admin"}, "invalid_scope", "Illegal scope"),
]


@pytest.mark.parametrize("change, error, description", ERRORS)
def test_errors_after_the_redirect_uri_is_trusted_are_redirected(
    sandbox, live_server, change, error, description
):
    """Checklist 4, 37: only after login, and to an app the user approved."""
    client, _ = make_client(live_server.app)
    values = {k: v for k, v in {**params(client), **change}.items() if v}
    first = sandbox.browser.get(sandbox.url("/authorize"), params=values,
                                allow_redirects=False)
    assert first.status_code == 200 and "Continue as" in first.text
    sandbox.approve(client)
    response = sandbox.authorize(values)
    assert response.status_code == 302
    assert query(response.headers["Location"]) == {
        "error": error, "error_description": description, "state": "st-1",
        "iss": sandbox.issuer}
    assert DESCRIPTION.fullmatch(description)


ATTACKER = "https://attacker.example/landing"


@pytest.mark.parametrize("change, error, description", ERRORS)
def test_no_silent_error_redirect_to_an_app_never_approved(
    sandbox, live_server, change, error, description
):
    """RFC 9700 §4.11.2: anyone can register an https URI on the dashboard, so an
    error for an app the user never approved waits for the user to see where it
    goes; Continue sends it there, Cancel stays at the sandbox."""
    client, _ = make_client(live_server.app, uris=(ATTACKER,))
    values = {k: v for k, v in {**params(client, redirect_uri=ATTACKER),
                                **change}.items() if v}
    page = sandbox.authorize(values, decision=None)
    assert page.status_code == 200 and "Location" not in page.headers
    text = " ".join(page.text.split())
    assert f"you are being sent to <code>{ATTACKER}</code>" in text
    assert "an app you have not approved" in text
    assert 'value="continue"' in text and 'href="/sandbox/"' in text
    assert "form-action 'self' https://attacker.example" in page.headers[
        "Content-Security-Policy"]
    assert_frame_headers(page)
    gone = sandbox.submit(page, {"decision": "continue"})
    assert gone.status_code == 303
    assert gone.headers["Location"].startswith(ATTACKER + "?")
    assert query(gone.headers["Location"]) == {
        "error": error, "error_description": description, "state": "st-1",
        "iss": sandbox.issuer}


def test_a_forged_continue_still_needs_the_csrf_token(sandbox, live_server):
    client, _ = make_client(live_server.app, uris=(ATTACKER,))
    values = params(client, redirect_uri=ATTACKER, response_type="foo")
    sandbox.authorize(values, decision=None)
    forged = sandbox.browser.post(sandbox.url("/authorize"), params=values,
                                  data={"decision": "continue"},
                                  allow_redirects=False)
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_returning_user_skips_consent_unless_asked_or_new_scopes(sandbox, live_server):
    client, _ = make_client(live_server.app)
    first = sandbox.authorize(params(client, scope="user-read-email"), decision=None)
    assert 'name="decision"' in first.text
    sandbox.submit(first, {"decision": "agree"})
    again = sandbox.authorize(params(client, scope="user-read-email"), decision=None)
    assert again.status_code == 302 and "code=" in again.headers["Location"]
    forced = sandbox.authorize(params(client, scope="user-read-email",
                                      show_dialog="true"), decision=None)
    assert 'name="decision"' in forced.text
    wider = sandbox.authorize(params(client, scope="user-read-email user-top-read"),
                              decision=None)
    assert 'name="decision"' in wider.text


XSS = '"><svg onload=alert(1)><script>alert(1)</script>'


def test_user_input_is_escaped_on_every_page(sandbox):
    """Checklist 7: state, scope, client_id and redirect_uri never come back raw."""
    consent = sandbox.authorize(params(sandbox.web, state=XSS, show_dialog="true"),
                                decision=None)
    assert consent.status_code == 200 and XSS not in consent.text
    for change in ({"client_id": XSS}, {"redirect_uri": XSS},
                   {"redirect_uri": "javascript:alert(1)"}):
        page = sandbox.browser.get(sandbox.url("/authorize"), allow_redirects=False,
                                   params={**params(sandbox.web), **change})
        assert page.status_code == 400
        assert "<script>alert" not in page.text and "<svg" not in page.text
    sandbox.approve(sandbox.web)
    scoped = sandbox.authorize(params(sandbox.web, scope=XSS))
    assert query(scoped.headers["Location"])["error"] == "invalid_scope"


def test_implicit_token_only_in_the_fragment(sandbox):
    """Checklist 28: fragment, no refresh token, state and iss; UI says deprecated."""
    values = params(sandbox.spa, response_type="token", scope="user-read-email",
                    show_dialog="true")
    consent = sandbox.authorize(values, decision=None)
    assert "removed the implicit grant" in consent.text
    response = sandbox.submit(consent, {"decision": "agree"})
    location = response.headers["Location"]
    assert "?" not in location.split("#")[0]
    found = fragment(location)
    assert set(found) == {"access_token", "token_type", "expires_in", "state", "iss"}
    assert found["token_type"] == "Bearer" and found["expires_in"] == "3600"
    assert found["state"] == "st-1" and found["iss"] == sandbox.issuer
    assert sandbox.api("/me", found["access_token"]).json()["email"]


def test_implicit_denial_comes_back_in_the_query(sandbox):
    values = params(sandbox.spa, response_type="token", show_dialog="true")
    response = sandbox.authorize(values, decision="cancel")
    assert query(response.headers["Location"])["error"] == "access_denied"
    assert "#" not in response.headers["Location"]


def test_implicit_refused_for_clients_not_registered_for_it(sandbox):
    sandbox.approve(sandbox.web)
    response = sandbox.authorize(params(sandbox.web, response_type="token"))
    location = response.headers["Location"]
    assert "access_token" not in location
    found = fragment(location)
    assert found["error"] == "unsupported_response_type"
    assert found["error_description"] == "response_type must be code"
    assert found["state"] == "st-1" and found["iss"] == sandbox.issuer


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x",
                                      "/\\evil.example", "javascript:alert(1)"])
def test_login_next_stays_on_this_origin(sandbox, next_url):
    """RFC 9700 §4.11.1: the login form's ``next`` is a local path or ignored."""
    page = sandbox.browser.get(sandbox.url("/authorize"), params=params(sandbox.web),
                               allow_redirects=False)
    response = sandbox.submit(page, {"user": "alice", "next": next_url})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sandbox/"


def test_unknown_demo_user_is_refused(sandbox):
    page = sandbox.browser.get(sandbox.url("/authorize"), params=params(sandbox.web),
                               allow_redirects=False)
    assert sandbox.submit(page, {"user": "mallory"}).status_code == 400
