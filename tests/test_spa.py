"""A browser app's own token request: the token endpoint's CORS answers, the
sandbox's record of what a page sent it, and the runner's single-page-app run."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from tests.flowrunner import FlowRunner
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import pkce_pair

ORIGIN = "http://127.0.0.1:4321"  # a page on another origin than the sandbox
PAGE_AGENT = "Mozilla/5.0 (a page in a test)"
CORS = re.compile(r"^access-control-", re.I)


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def pkce_form(sandbox) -> tuple[dict, str]:
    """A fresh PKCE code and the form a page would post to redeem it."""
    verifier, challenge = pkce_pair()
    code = sandbox.code(sandbox.spa, code_challenge=challenge,
                        code_challenge_method="S256")
    return {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "client_id": sandbox.spa.client_id,
            "code_verifier": verifier}, verifier


def cors_headers(response) -> dict:
    return {k.lower(): v for k, v in response.headers.items() if CORS.match(k)}


def preflight(sandbox, **headers) -> requests.Response:
    return requests.options(sandbox.url("/api/token"), headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", **headers},
        timeout=5)


def test_simple_post_from_a_page_may_be_read(sandbox):
    form, _ = pkce_form(sandbox)
    answer = sandbox.token(form, {"Origin": ORIGIN})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    refused = sandbox.token({**form, "code": "spent"}, {"Origin": ORIGIN})
    assert refused.status_code == 400  # an error the page can read, too
    assert refused.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_asking_for_authorization_is_refused(sandbox):
    """As Spotify answers it: 204 and no CORS headers (spotify/web-api#586)."""
    answer = preflight(sandbox, **{"Access-Control-Request-Headers": "authorization"})
    assert answer.status_code == 204
    assert cors_headers(answer) == {}
    assert answer.content == b""


@pytest.mark.parametrize("asked", [None, "content-type", "x-requested-with"])
def test_every_preflight_is_refused_alike(sandbox, asked):
    """The sandbox grants no preflight at all: only simple requests are readable."""
    extra = {"Access-Control-Request-Headers": asked} if asked else {}
    answer = preflight(sandbox, **extra)
    assert (answer.status_code, cors_headers(answer)) == (204, {})


def test_authorization_endpoint_sends_no_cors_header(sandbox):
    answer = requests.get(sandbox.url("/authorize"), headers={"Origin": ORIGIN},
                          params={"client_id": sandbox.spa.client_id}, timeout=5)
    assert "Access-Control-Allow-Origin" not in answer.headers


def received(sandbox, verifier: str) -> requests.Response:
    return requests.post(sandbox.url("/demo/received"),
                         data={"code_verifier": verifier}, timeout=5)


def test_the_sandbox_keeps_a_pages_request_for_the_verifier_holder(sandbox):
    form, verifier = pkce_form(sandbox)
    preflight(sandbox)  # a refused preflight from the same page comes first
    sent = sandbox.token(form, {"Origin": ORIGIN, "User-Agent": "Page/1.0"})
    assert received(sandbox, "someone-elses-verifier-" + "x" * 30).status_code == 404
    record = received(sandbox, verifier)
    assert record.status_code == 200
    first, last = record.json()["exchanges"]
    assert first["request"]["start_line"] == "OPTIONS /sandbox/api/token HTTP/1.1"
    assert first["response"]["start_line"] == "HTTP/1.1 204 NO CONTENT"
    request, response = last["request"], last["response"]
    assert request["start_line"] == "POST /sandbox/api/token HTTP/1.1"
    assert ["Origin", ORIGIN] in request["headers"]
    assert ["User-Agent", "Page/1.0"] in request["headers"]
    assert request["body"] == sent.request.body  # the bytes, as they were sent
    assert response["start_line"] == "HTTP/1.1 200 OK"
    assert ["Access-Control-Allow-Origin", "*"] in response["headers"]
    assert response["body"] == sent.text
    assert received(sandbox, verifier).status_code == 404  # read once only


def test_server_sent_requests_are_not_kept(sandbox):
    form, verifier = pkce_form(sandbox)
    assert sandbox.token(form).status_code == 200  # no Origin: not a browser's
    assert received(sandbox, verifier).status_code == 404


def kept_verifier(runner: FlowRunner) -> str:
    """What spa.js keeps in sessionStorage when the page leaves for /authorize."""
    return unescape(re.search(r'data-verifier="([^"]+)"', runner.page.text).group(1))


def page_sends_token_request(runner: FlowRunner, verifier: str) -> requests.Response:
    """Do what spa.js does: post the code and the verifier from the page."""
    form = re.search(r"<form [^>]*data-spa-token=[^>]*>", runner.page.text).group(0)
    data = {k: unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', form)}
    headers = {"Origin": ORIGIN, "User-Agent": PAGE_AGENT}
    return requests.post(data["spa-token"], headers=headers, data={
        "grant_type": "authorization_code", "code": data["code"],
        "redirect_uri": data["redirect"], "client_id": data["client"],
        "code_verifier": verifier}, timeout=5)


def test_start_page_offers_the_single_page_app_run(live_server):
    page = requests.get(live_server("/run/authorization-code-pkce"), timeout=5).text
    assert 'name="run_as" value="server" checked' in page
    assert 'name="run_as" value="spa"' in page
    other = requests.get(live_server("/run/authorization-code"), timeout=5).text
    assert 'name="run_as"' not in other


def test_spa_run_shows_the_request_the_sandbox_received(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce", run_as="spa")
    runner.next()  # the authorization URL
    verifier = kept_verifier(runner)
    runner.authorize()
    assert 'data-spa-token="' in runner.page.text
    assert page_sends_token_request(runner, verifier).status_code == 200
    page = runner.next()
    assert "Step 4: The page exchanges the code" in page.text
    assert "Sent by your browser, received by the sandbox" in page.text
    text = unescape(re.sub(r"<[^>]+>", "", page.text))
    assert f"Origin: {ORIGIN}" in text
    assert f"User-Agent: {PAGE_AGENT}" in text
    assert "python-requests" not in text  # the lab's server sent nothing here
    final = runner.run_all()
    assert "That is the whole flow" in final.text
    assert runner.step_count() == 10


def test_spa_run_without_the_pages_request_stops_and_says_why(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce", run_as="spa")
    runner.next()
    runner.authorize()
    page = runner.next()  # Next without the page's script: nothing was sent
    assert "The sandbox received no token request from this page" in unescape(
        page.text)
    assert "The run stopped" in page.text


def test_server_sent_run_stays_the_default(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    runner.next()
    runner.authorize()
    assert "data-spa-token" not in runner.page.text
    page = runner.next()
    assert "python-requests" in page.text
