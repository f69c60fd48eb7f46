"""The live runner over HTTP: every flow end to end against the served sandbox.

Tests drive the runner as a browser would (tests/flowrunner.py) and check what the
learner sees and what went over the wire.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
from sqlalchemy import event

from flowlab.core.storage.db import LAB
from tests.flowrunner import FlowRunner
from tests.forms import submit

STEPS = {"authorization-code": 11, "authorization-code-pkce": 10,
         "client-credentials": 4, "implicit": 4}
NAMES = {"alice": "Alice Lindqvist", "bob": "Bob Okafor"}


class WireRecorder:
    """WSGI middleware keeping what the sandbox received, as the server saw it."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[dict] = []

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/sandbox/"):
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size) if size else b""
            environ["wsgi.input"] = io.BytesIO(body)
            headers = {k[5:].replace("_", "-").lower(): v
                       for k, v in environ.items() if k.startswith("HTTP_")}
            for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if environ.get(key):
                    headers[key.replace("_", "-").lower()] = environ[key]
            query = environ.get("QUERY_STRING")
            self.seen.append({
                "line": f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
                        + (f"?{query}" if query else ""),
                "headers": headers, "body": body.decode()})
        return self.app(environ, start_response)


@pytest.fixture
def recorded(serve):
    """A served app whose sandbox traffic is recorded on the server side."""
    server = serve()
    server.recorder = WireRecorder(server.app.wsgi_app)
    server.app.wsgi_app = server.recorder
    return server


def _done(runner: FlowRunner) -> list[str]:
    return re.findall(r'class="run-step run-step-(done|failed)"', runner.page.text)


def _wire_text(html: str) -> list[str]:
    """The HTTP messages shown on a step page, as plain text."""
    blocks = re.findall(r'<div class="wire">(.*?)</div>\s*(?:</div>)?', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


@pytest.mark.parametrize("flow_id", sorted(STEPS))
def test_every_flow_runs_to_its_end(live_server, flow_id):
    runner = FlowRunner(live_server).start(flow_id)
    page = runner.run_all()
    assert page.status_code == 200
    assert _done(runner) == ["done"] * STEPS[flow_id]
    assert "That is the whole flow" in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize("flow_id", sorted(STEPS))
def test_every_part_of_every_exchange_is_annotated(live_server, flow_id):
    runner = FlowRunner(live_server).start(flow_id)
    runner.run_all()
    for number in range(1, STEPS[flow_id] + 1):
        page = runner.get(f"{runner.run_url}?step={number}")
        missing = re.findall(r'<tr class="unannotated">\s*<th[^>]*>.*?<code>([^<]+)',
                             page.text, re.S)
        assert missing == [], f"step {number}: parts without annotation"


def test_captured_exchanges_are_what_the_sandbox_received(recorded):
    runner = FlowRunner(recorded).start("authorization-code-pkce")
    runner.run_all()
    seen = recorded.recorder.seen
    posts = [s for s in seen if s["line"] == "POST /sandbox/api/token"]
    assert len(posts) == 3  # code exchange, refresh, refresh again
    page = runner.get(f"{runner.run_url}?step=4&reveal=1")
    request = _wire_text(page.text)[0]
    head, _, body = request.partition("\n\n")
    lines = head.splitlines()
    assert lines[0] == "POST /sandbox/api/token HTTP/1.1"
    shown = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    assert shown == posts[0]["headers"]
    assert body.strip() == posts[0]["body"]
    assert "code_verifier=" in body and "client_secret" not in body


def test_state_mismatch_makes_no_token_request_and_changes_nothing(recorded):
    """A forged state is refused without stopping the run (tests/
    test_callback_security.py has the attack)."""
    runner = FlowRunner(recorded).start("authorization-code")
    runner.next()  # the app builds the authorization URL
    issuer = recorded("/sandbox")
    page = runner.session.get(
        recorded(f"/run/callback?code=stolen&state=forged&iss={issuer}"),
        allow_redirects=False)
    assert page.status_code == 400
    assert "belongs to none of your runs" in page.text
    assert not any("/api/token" in s["line"] for s in recorded.recorder.seen)
    runner.get(runner.run_url)
    assert _done(runner) == ["done"]  # still waiting for the browser
    runner.run_all()
    assert _done(runner) == ["done"] * STEPS["authorization-code"]
    again = runner.session.get(recorded("/run/callback?code=x&state=forged"))
    assert again.status_code == 400
    assert "No run is waiting" in again.text


def test_cancel_at_consent_shows_access_denied(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    page = runner.authorize(agree=False)
    assert "access denied" in page.text.lower()
    assert "access_denied" in page.text
    assert 'id="next"' not in page.text and "Start again" in page.text


def test_reused_code_and_expired_token_are_explained(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.run_all()
    reuse = runner.get(f"{runner.run_url}?step=10")
    assert "invalid_grant" in reuse.text and "single-use" in reuse.text
    expired = runner.get(f"{runner.run_url}?step=7")
    assert _wire_text(expired.text)[1].startswith("HTTP/1.1 401")
    assert "expired" in expired.text


def test_secrets_are_masked_until_revealed(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.next()
    masked = runner.get(f"{runner.run_url}?step=1").text
    revealed = runner.get(f"{runner.run_url}?step=1&reveal=1").text
    token = re.search(r"access_token(?:&quot;|\")[^A-Za-z0-9_-]*([A-Za-z0-9_-]{20,})",
                      unescape(re.sub(r"<[^>]+>", "", revealed))).group(1)
    assert token not in masked
    assert f"{token[:4]}…{token[-4:]}" in masked


def test_runs_belong_to_the_browser_that_started_them(live_server):
    mine = FlowRunner(live_server).start("client-credentials")
    theirs = FlowRunner(live_server)
    assert theirs.get(mine.run_url).status_code == 404
    assert mine.get(mine.run_url).status_code == 200


def test_runs_survive_a_server_restart(serve):
    first = serve()
    runner = FlowRunner(first).start("client-credentials")
    runner.next()
    first.close()
    second = serve()
    page = runner.get(runner.run_url.replace(first.url, second.url))
    assert page.status_code == 200
    assert _done(runner) == ["done"]


def test_runs_expire(serve):
    server = serve(RUN_TTL=0)
    runner = FlowRunner(server).start("client-credentials")
    assert runner.page.status_code == 404
    assert "expired" in runner.page.text


def _run_one(args):
    server, index = args
    flow = sorted(STEPS)[index % 4]
    user = ("alice", "bob")[index // 4 % 2]
    runner = FlowRunner(server).start(flow)
    runner.run_all(user=user)
    pages = [runner.get(f"{runner.run_url}?step={n}").text
             for n in range(1, STEPS[flow] + 1)]
    return flow, user, _done(runner), "\n".join(pages)


def test_twenty_parallel_runs_never_mix(live_server):
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(_run_one, [(live_server, i) for i in range(20)]))
    for flow, user, done, pages in results:
        assert done == ["done"] * STEPS[flow], flow
        if flow != "client-credentials":
            other = "bob" if user == "alice" else "alice"
            assert NAMES[user] in pages and NAMES[other] not in pages


def test_a_double_click_runs_a_step_once(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    runner.authorize()  # now at step 3; Next exchanges the code
    form_page = runner.page
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: submit(runner.session, form_page, "Next"), range(3)))
    runner.get(runner.run_url)
    assert _done(runner) == ["done"] * 4
    page = runner.next()  # the API call works: the code was redeemed once
    assert _done(runner) == ["done"] * 5, _wire_text(page.text)[-1][:200]


def test_a_click_landing_just_after_a_claim_does_not_run_the_step(recorded):
    """The second click reads the step's claim the moment the first has written
    it, before the first goes on: it must see the step running, not free."""
    runner = FlowRunner(recorded).start("authorization-code")
    runner.next()
    runner.authorize()  # now at step 3; Next exchanges the code
    form_page, run_id = runner.page, runner.run_url.rpartition("/")[2]
    second: list = []

    def click_again(conn, cursor, statement, parameters, context, many):
        if (not second and statement.startswith("UPDATE runs SET version")
                and "claimed=" in statement and run_id in str(parameters)):
            second.append(None)  # once: the first click's claim, just written
            with ThreadPoolExecutor(max_workers=1) as pool:
                second[0] = pool.submit(
                    submit, runner.session, form_page, "Next").result(timeout=20)

    engine = LAB.engine(recorded.app)
    event.listen(engine, "after_cursor_execute", click_again)
    try:
        submit(runner.session, form_page, "Next")
    finally:
        event.remove(engine, "after_cursor_execute", click_again)
    assert second and second[0].status_code == 303
    codes = [s for s in recorded.recorder.seen
             if s["line"] == "POST /sandbox/api/token"
             and "grant_type=authorization_code" in s["body"]]
    assert len(codes) == 1  # the code was redeemed once
    runner.get(runner.run_url)
    assert _done(runner) == ["done"] * 4
    runner.next()
    assert _done(runner) == ["done"] * 5


def test_a_second_click_on_a_spent_next_changes_nothing(live_server):
    """The same Next form sent again after the first finished (a slow double
    click, a reload that re-posts) does not run the following step."""
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    runner.authorize()  # now at step 3; Next exchanges the code
    form_page = runner.page
    submit(runner.session, form_page, "Next")
    submit(runner.session, form_page, "Next")
    runner.get(runner.run_url)
    assert _done(runner) == ["done"] * 4
    runner.next()  # a Next from the current page still works
    assert _done(runner) == ["done"] * 5


def test_the_session_cookie_is_not_recorded(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    runner.authorize()
    cookie = runner.session.cookies.get("session")
    shown = runner.get(f"{runner.run_url}?step=3&reveal=1").text
    assert cookie not in shown
    assert "session cookie: not recorded" in shown


def test_a_callback_without_query_does_not_stop_a_code_run(live_server):
    runner = FlowRunner(live_server).start("implicit")
    runner.next()
    implicit_run = runner.run_url
    runner.start("authorization-code").next()  # newer, also waiting
    page = runner.get(live_server("/run/callback"))
    assert "data-csrf=" in page.text  # the fragment page, for the implicit run
    assert "run-step-failed" not in runner.get(runner.run_url).text
    assert runner.get(implicit_run).status_code == 200


def test_a_forged_state_with_two_runs_waiting_changes_neither(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    first = runner.run_url
    runner.start("authorization-code-pkce").next()
    page = runner.session.get(live_server("/run/callback?code=x&state=forged"))
    assert page.status_code == 400
    assert "belongs to none of your runs" in page.text
    for url in (first, runner.run_url):
        assert "run-step-failed" not in runner.get(url).text


@pytest.mark.parametrize("body", ["[1]", '"x"', '{"fragment": 123}',
                                  '{"fragment": ["a"]}', "not json"])
def test_junk_fragment_posts_get_400(live_server, body):
    runner = FlowRunner(live_server)
    page = runner.get(live_server("/provider"))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = runner.session.post(
        live_server("/run/callback/fragment"), data=body,
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    assert answer.status_code == 400 and "Traceback" not in answer.text
    no_token = runner.session.post(live_server("/run/callback/fragment"),
                                   json={"fragment": "state=x"})
    assert no_token.status_code == 400


def _prose(page) -> str:
    """A page's HTML with runs of whitespace made one space, as a reader sees it."""
    return " ".join(page.split())


def _token_posts(server) -> list[dict]:
    return [s for s in server.recorder.seen if s["line"] == "POST /sandbox/api/token"]


def _authorize_line(server) -> str:
    return next(s["line"] for s in server.recorder.seen
                if s["line"].startswith("GET /sandbox/authorize"))


def test_code_flow_sends_the_secret_and_pkce(recorded):
    """RFC 9700 §2.1.1, OAuth 2.1 §4.1.1: a confidential client uses PKCE too."""
    runner = FlowRunner(recorded).start("authorization-code")
    runner.run_all()
    assert _done(runner) == ["done"] * STEPS["authorization-code"]
    line = _authorize_line(recorded)
    assert "code_challenge=" in line and "code_challenge_method=S256" in line
    exchange = _token_posts(recorded)[0]
    assert exchange["headers"]["authorization"].startswith("Basic ")
    assert "code_verifier=" in exchange["body"]
    assert "client_secret" not in exchange["body"]
    first = _prose(runner.get(f"{runner.run_url}?step=1").text)
    assert "a PKCE <code>code_verifier</code>" in first
    assert "without PKCE" not in first
    token = _prose(runner.get(f"{runner.run_url}?step=4").text)
    assert "code injection" in token and "/glossary#concept-code-injection" in token


def test_code_flow_without_pkce_as_spotify_example(recorded, live_server):
    start = FlowRunner(live_server).get(live_server("/run/authorization-code"))
    assert 'name="pkce" value="off"' in start.text
    assert "Spotify&#39;s own server example" in start.text
    public = FlowRunner(live_server).get(live_server("/run/authorization-code-pkce"))
    assert 'name="pkce"' not in public.text

    runner = FlowRunner(recorded).start("authorization-code", pkce="off")
    runner.run_all()
    assert _done(runner) == ["done"] * STEPS["authorization-code"]
    assert "code_challenge" not in _authorize_line(recorded)
    exchange = _token_posts(recorded)[0]
    assert exchange["headers"]["authorization"].startswith("Basic ")
    assert "code_verifier" not in exchange["body"]
    first = _prose(runner.get(f"{runner.run_url}?step=1").text)
    assert "You chose to run without PKCE" in first
    token = _prose(runner.get(f"{runner.run_url}?step=4").text)
    assert "Without PKCE nothing ties" in token


def test_callback_text_says_the_sandbox_iss_was_checked(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    runner.next()
    page = runner.authorize()
    assert "That <code>iss</code> is a sandbox extra" in _prose(page.text)
    assert "Spotify does not send one" not in _prose(page.text)


def test_pkce_refresh_keeps_the_stored_refresh_token(recorded):
    """Spotify since 2026: no refresh_token back; the same one works again."""
    runner = FlowRunner(recorded).start("authorization-code-pkce")
    runner.run_all()
    exchange, *refreshes = _token_posts(recorded)
    assert len(refreshes) == 2
    sent = [re.search(r"refresh_token=([^&]+)", r["body"]).group(1)
            for r in refreshes]
    assert sent[0] == sent[1]
    for number in (8, 10):  # refresh, refresh again
        page = runner.get(f"{runner.run_url}?step={number}&reveal=1").text
        response = _wire_text(page)[1]
        assert response.startswith("HTTP/1.1 200")
        assert '"refresh_token"' not in response and "access_token" in response
    told = _prose(runner.get(f"{runner.run_url}?step=8").text)
    assert "RFC 9700 §2.2.2" in told and "never retry" in told
