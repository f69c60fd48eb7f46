"""The runner's callback under attack: mix-up and unmatched redirects.

Mix-up (RFC 9700 §4.4, RFC 9207 §2.4): a provider typed in on the provider page, served
here on another loopback address, sends the browser on to an honest authorization
server with the run's own query, hoping the honest server's code comes back and is
sent to its token endpoint. Two defences stop it: each provider has its own callback
path (RFC 9700 §4.4.2.2), and an ``iss`` the run did not expect is a mismatch.

Unmatched redirects (RFC 6749 §10.12): a cross-site navigation to the callback with a
guessed ``state`` must change nothing.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask import redirect
from flask import request

from flowlab.core.demo import demo_apps
from tests import standin
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner
from tests.forms import submit

PUBLIC_ID = demo_apps({"SECRET_KEY": "test-secret-key"})[1].client_id


def make_malicious(lab: LiveServer, honest: LiveServer) -> Flask:
    """A provider whose authorization endpoint forwards the browser elsewhere and
    whose token endpoint keeps every request it gets."""
    app = Flask("malicious")
    app.token_requests = []
    app.mode = "to-sandbox"

    @app.get("/authorize")
    def authorize():
        query = dict(parse_qsl(request.query_string.decode()))
        if app.mode == "to-sandbox":  # the very same query, to the sandbox
            return redirect(lab("/sandbox/authorize?") + request.query_string.decode())
        if app.mode == "to-sandbox-shared-callback":  # and the sandbox's callback
            query["redirect_uri"] = lab("/run/callback")
            return redirect(lab("/sandbox/authorize?") + urlencode(query))
        if app.mode == "to-honest-without-iss":  # as Spotify: no iss, /run/callback
            query["redirect_uri"] = lab("/run/callback")
            return redirect(honest("/authorize?") + urlencode(query))
        # "iss": its own answer, with an iss the run has no reason to expect
        back = {"code": "its-own-code", "state": query["state"],
                "iss": lab("/sandbox")}
        return redirect(query["redirect_uri"] + "?" + urlencode(back))

    @app.post("/token")
    def token():
        app.token_requests.append(request.get_data(as_text=True))
        return {"access_token": "stolen-0123456789", "token_type": "Bearer"}

    return app


@pytest.fixture
def honest():
    """An honest provider that sends no ``iss`` (Spotify-shaped)."""
    server = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    yield server
    server.close()


@pytest.fixture
def malicious(live_server, honest):
    server = LiveServer(make_malicious(live_server, honest), backchannel=False,
                        host=PROVIDER_HOST)
    yield server
    server.close()


def typed_in(runner: FlowRunner, server: LiveServer, **fields):
    """Choose the malicious provider by its endpoints, with no issuer, as a victim
    following its instructions would (the client id is the sandbox's public app)."""
    fields = {"authorize_url": server("/authorize"), "token_url": server("/token"),
              "client_id": PUBLIC_ID, **fields}
    page = runner.use_provider("Use this provider", **fields)
    assert "Now: Provider at" in page.text, page.text[-2000:]
    return page


def through_sandbox(runner: FlowRunner, page):
    """Log in and agree at the sandbox, if it asks."""
    for label in ("Continue as", "Agree"):
        if label in page.text and "<form" in page.text:
            page = runner.follow(submit(runner.session, page, label))
    return page


def click_next_while_possible(runner: FlowRunner) -> None:
    """Click every Next button the run page offers (the token request among them)."""
    runner.get(runner.run_url)
    for _ in range(6):
        if not re.search(r'<button[^>]*id="next"', runner.page.text):
            return
        runner.next()


def attempt(runner: FlowRunner, malicious: LiveServer, mode: str):
    malicious.app.mode = mode
    typed_in(runner, malicious)
    runner.start("authorization-code-pkce").next()  # the authorization URL
    page = through_sandbox(runner, runner.next())  # to the malicious provider
    click_next_while_possible(runner)
    return page


@pytest.mark.parametrize("mode", ["to-sandbox", "to-sandbox-shared-callback",
                                  "to-honest-without-iss"])
def test_mix_up_never_sends_a_code_to_the_malicious_token_endpoint(
        live_server, malicious, honest, mode):
    runner = FlowRunner(live_server)
    attempt(runner, malicious, mode)
    assert malicious.app.token_requests == []
    run = runner.get(runner.run_url).text
    assert "run-step-done" in run  # the authorization URL was built ...
    assert "That is the whole flow" not in run  # ... and no token came of it


def test_the_sandbox_refuses_a_callback_registered_for_another_provider(
        live_server, malicious):
    runner = FlowRunner(live_server)
    page = attempt(runner, malicious, "to-sandbox")
    assert page.status_code == 400
    assert "redirect" in page.text.lower()
    assert "code=" not in runner.last_location


def test_a_code_at_another_providers_callback_changes_nothing(live_server, malicious):
    runner = FlowRunner(live_server)
    page = attempt(runner, malicious, "to-honest-without-iss")
    assert standin.CODE in runner.last_location  # the honest code came back ...
    assert page.status_code == 400  # ... to the shared callback, which refused it
    assert "another provider" in " ".join(page.text.split())
    assert runner.run_url.rsplit("/", 1)[1] in page.text  # a way back to the run
    run = runner.get(runner.run_url).text
    assert "run-step-failed" not in run


def test_an_unexpected_iss_stops_the_run_before_any_token_request(
        live_server, malicious):
    runner = FlowRunner(live_server)
    attempt(runner, malicious, "iss")
    run = " ".join(runner.get(runner.run_url).text.split())
    assert "run-step-failed" in run
    assert "The iss parameter did not name the expected server" in run
    assert malicious.app.token_requests == []


def test_each_provider_has_its_own_callback_shown_on_the_provider_page(
        live_server, malicious):
    runner = FlowRunner(live_server)
    page = typed_in(runner, malicious)
    shown = re.findall(r"http://127\.0\.0\.1:\d+/run/callback[^<\s\"]*", page.text)
    own = [uri for uri in shown if uri != live_server("/run/callback")]
    assert len(set(own)) == 1, shown
    assert live_server("/run/callback") in shown  # Spotify's, as documented
    runner.start("authorization-code-pkce").next()
    assert "redirect_uri=" + own[0].replace(":", "%3A").replace("/", "%2F") in (
        runner.next_link() or "")
    other = FlowRunner(live_server)
    typed_in(other, malicious, token_url=malicious("/other-token"))
    assert own[0] not in other.page.text  # another token endpoint, another path


# RFC 6749 §10.12: a redirect that belongs to no run is refused, and changes nothing.

def test_a_guessed_state_leaves_the_waiting_run_waiting(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    forged = runner.session.get(live_server("/run/callback?code=x&state=guess"),
                                allow_redirects=False, timeout=10)
    assert forged.status_code == 400
    assert "belongs to none of your runs" in forged.text
    assert runner.run_url.rsplit("/", 1)[1] in forged.text  # the way back
    run = runner.get(runner.run_url).text
    assert "run-step-failed" not in run and "/authorize?" in runner.next_link()
    runner.run_all()
    assert "That is the whole flow" in runner.page.text


def test_a_guessed_state_in_a_fragment_leaves_the_implicit_run_waiting(live_server):
    runner = FlowRunner(live_server).start("implicit")
    runner.next()
    page = runner.get(live_server("/run/callback"))
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    forged = runner.session.post(
        live_server("/run/callback/fragment"), headers={"X-CSRF-Token": csrf},
        json={"fragment": "access_token=x&token_type=Bearer&state=guess"}, timeout=10)
    assert forged.status_code == 400
    runner.get(runner.run_url)
    assert "run-step-failed" not in runner.page.text
    runner.run_all()
    assert "That is the whole flow" in runner.page.text
