"""The API console over HTTP (issue 20, part 2): a run's access token, inserted by
the server, calls the provider's API; the answer is captured from the wire and
annotated (RFC 6750 §3, §3.1). Only addresses under the API base are called."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import requests
from sqlalchemy import text

from flowlab.core.storage.db import LAB
from tests import standin
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.sandbox_helpers import basic

FIELDS = {"method": "GET", "query": "", "headers": "", "body": "", "token": "run"}


def token_of(server, flow: FlowRunner) -> str:
    """The run's access token, read from the lab's database (never from a page)."""
    run_id = flow.run_url.rstrip("/").rsplit("/", 1)[1]
    with LAB.connection(server.app) as conn:
        stored = conn.execute(text("SELECT secrets FROM runs WHERE id = :id"),
                              {"id": run_id}).scalar_one()
    return json.loads(stored)["token"]["access_token"]


def finished(server, flow_id: str = "authorization-code") -> FlowRunner:
    """A run stepped until it holds an access token (the step page links to the
    console), and no further: the code flow's later steps expire and revoke it."""
    flow = FlowRunner(server).start(flow_id)
    for _ in range(20):
        if 'id="console-link"' in flow.page.text:
            return flow
        if "data-csrf=" in flow.page.text:
            flow.post_fragment()
        elif "/authorize?" in (flow.next_link() or ""):
            flow.authorize()
        else:
            flow.next()
    raise AssertionError("the run got no access token")


def console(flow: FlowRunner, **params) -> requests.Response:
    return flow.session.get(flow.run_url + "/console", params=params, timeout=10)


def call(flow: FlowRunner, path: str, **fields) -> requests.Response:
    """Send one call from the console's form and follow the answer's redirect."""
    page = console(flow)
    sent = submit(flow.session, page, "Send", **{**FIELDS, "path": path, **fields})
    return flow.follow(sent) if sent.is_redirect else sent


def answer_of(page: requests.Response) -> str:
    """The answer section's text, tags dropped."""
    found = re.search(r'<section[^>]*id="answer".*?</section>\s*<!-- /answer -->',
                      page.text, re.S)
    assert found, page.text[:2000]
    return unescape(re.sub(r"<[^>]+>", "", found.group()))


@pytest.fixture(scope="module")
def code_run(live_server) -> FlowRunner:
    return finished(live_server)


def test_the_step_page_links_to_the_console_once_the_run_has_a_token(live_server,
                                                                      code_run):
    link = re.search(r'<a [^>]*id="console-link"[^>]*>([^<]+)</a>',
                     code_run.get(code_run.run_url).text)
    assert link and link.group(1) == "Call the API"
    fresh = FlowRunner(live_server).start("authorization-code")
    assert 'id="console-link"' not in fresh.page.text
    assert console(fresh).status_code == 404 or "no access token" in console(
        fresh).text


def test_every_sandbox_endpoint_is_listed_with_its_scopes(live_server, code_run):
    page = console(code_run)
    assert page.status_code == 200
    served = sorted(str(rule) for rule in live_server.app.url_map.iter_rules()
                    if rule.endpoint.startswith("sandbox_api.")
                    and "GET" in rule.methods)
    listed = re.findall(r'<td><code class="api-path">([^<]+)</code>', page.text)
    assert len(served) >= 4
    for rule in served:  # /sandbox/v1/artists/<artist_id> is listed as /v1/artists/{id}
        shape = re.sub(r"<[^>]+>", "{id}", rule.removeprefix("/sandbox"))
        assert shape in listed, (shape, listed)
    rows = re.findall(r"<tr>.*?</tr>", page.text, re.S)
    row = next(r for r in rows if 'api-path">/v1/me/playlists<' in r)
    assert "playlist-read-private" in row
    picked = console(code_run, use="search")
    path = re.search(r'name="path"[^>]*value="([^"]*)"', picked.text).group(1)
    assert path == "/v1/search"
    assert "type=artist" in unescape(picked.text)


def test_a_call_to_me_succeeds_and_the_token_never_shows(live_server, code_run):
    token = token_of(live_server, code_run)
    page = call(code_run, "/v1/me")
    assert page.status_code == 200
    answer = answer_of(page)
    assert "GET /sandbox/v1/me HTTP/1.1" in answer
    assert "HTTP/1.1 200 OK" in answer
    assert "display_name" in answer
    assert 'id="console-request-port"' in page.text  # the back channel, named
    assert "Authorization: Bearer" in answer
    assert token[:4] + "…" + token[-4:] in answer  # masked as the run's secrets are
    for shown in (page, console(code_run), code_run.get(code_run.run_url)):
        assert token not in shown.text


def test_query_headers_and_method_go_on_the_wire(code_run):
    page = call(code_run, "/v1/search", query="q=daft\ntype=artist\nlimit=2",
                headers="Accept-Language: fr")
    answer = answer_of(page)
    assert "GET /sandbox/v1/search?q=daft&type=artist&limit=2 HTTP/1.1" in answer
    assert "Accept-Language: fr" in answer
    posted = answer_of(call(code_run, "/v1/me", method="POST", body="{}"))
    assert "POST /sandbox/v1/me HTTP/1.1" in posted
    assert "HTTP/1.1 4" in posted


def test_the_form_keeps_the_call_its_answer_is_shown_for(code_run):
    """After Send, the form holds what was sent, ready to change and send again."""
    page = call(code_run, "/v1/search", query="q=daft\ntype=artist")
    assert re.search(r'<input[^>]*name="path"[^>]*value="/v1/search"', page.text)
    assert "q=daft\ntype=artist</textarea>" in page.text.replace("\r\n", "\n")


def test_a_missing_scope_is_a_403_that_names_the_scope(live_server):
    flow = finished(live_server, "implicit")  # user-read-private user-read-email
    answer = answer_of(call(flow, "/v1/me/playlists"))
    assert "HTTP/1.1 403" in answer
    assert "Insufficient client scope" in answer
    needs = re.search(r"needs[^.]*playlist-read-private", answer)
    assert needs, answer
    assert "user-read-email" in answer  # what the token has
    assert "403" in answer and "401" in answer  # 403 told apart from 401


@pytest.mark.parametrize("token", ["none", "made-up"])
def test_no_token_or_a_bad_one_is_a_401_with_its_challenge_explained(code_run,
                                                                      token):
    answer = answer_of(call(code_run, "/v1/me", token=token))
    assert "HTTP/1.1 401" in answer
    assert re.search(r'WWW-Authenticate: Bearer realm="spotify"', answer, re.I)
    assert "RFC 6750 §3" in answer
    if token == "none":
        assert "No token provided" in answer
        assert "no error code" in answer.lower()
    else:
        assert 'error="invalid_token"' in answer
        assert "invalid_token (RFC 6750 §3.1)" in answer


def test_a_revoked_token_gets_the_real_refusal(live_server):
    flow = finished(live_server)
    token = token_of(live_server, flow)
    config = live_server.app.config
    from flowlab.core.demo import demo_apps

    web, _ = demo_apps(config)
    revoked = requests.post(live_server.url + "/sandbox/api/revoke",
                            data={"token": token, "token_type_hint": "access_token"},
                            headers=basic(web.client_id, web.client_secret),
                            timeout=10)
    assert revoked.status_code == 200
    answer = answer_of(call(flow, "/v1/me"))
    assert "HTTP/1.1 401" in answer
    assert "Invalid access token" in answer
    assert 'error="invalid_token"' in answer


def test_an_expired_token_gets_the_real_refusal(live_server):
    flow = finished(live_server)
    token = token_of(live_server, flow)
    expired = requests.post(live_server.url + "/sandbox/demo/expire-token",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert expired.status_code == 200
    answer = answer_of(call(flow, "/v1/me"))
    assert "HTTP/1.1 401" in answer
    assert "The access token expired" in answer
    assert "refresh" in answer.lower()


@pytest.mark.parametrize("path", [
    "/api/token", "/v1/../api/token", "/v1/%2e%2e/api/token", "//evil.example/v1/me",
    "http://127.0.0.1:9/v1/me", "v1/me", "/v1x/me", "/v1\\..\\api/token",
])
def test_addresses_outside_the_api_base_are_refused(code_run, path):
    page = call(code_run, path)
    assert page.status_code == 400
    assert "Only addresses under" in unescape(page.text)
    assert 'id="answer"' not in page.text


def test_the_history_keeps_this_runs_calls_for_this_browser(live_server, code_run):
    call(code_run, "/v1/me")
    call(code_run, "/v1/artists/kQz7kFsGTSXgIamAi6Io3e")
    page = console(code_run)
    history = re.search(r'<section[^>]*id="history".*?</section>', page.text,
                        re.S).group()
    assert "/v1/artists/kQz7kFsGTSXgIamAi6Io3e" in history
    assert "/v1/me" in history
    first = re.search(r'href="([^"]*\?call=[^"]+)"', history).group(1)
    again = code_run.session.get(live_server.url + unescape(first), timeout=10)
    assert 'id="answer"' in again.text
    stranger = requests.Session()
    assert stranger.get(code_run.run_url + "/console", timeout=10).status_code == 404


def test_sending_needs_the_forms_csrf_token(code_run):
    bare = code_run.session.post(code_run.run_url + "/console",
                                 data={**FIELDS, "path": "/v1/me"},
                                 allow_redirects=False, timeout=10)
    assert bare.status_code in (400, 403)



def test_a_real_providers_api_takes_any_path_under_its_base(serve, fake):
    """Spotify's profile pointed at a stand-in: no endpoint list, any path under
    its API base; the run's token (sealed for this browser) goes in the header."""
    lab = serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
    flow = FlowRunner(lab)
    flow.use_provider("Use Spotify", client_id="0123456789abcdef0123456789abcdef",
                      client_secret="s3cr3t-0123456789")
    flow.start("authorization-code")
    while 'id="console-link"' not in flow.page.text:
        flow.authorize() if "/authorize?" in (flow.next_link() or "") else flow.next()
    page = console(flow)
    assert 'id="endpoints"' not in page.text
    assert "/v1/artists/x" not in [s["path"] for s in fake.app.seen]
    answer = answer_of(call(flow, "/v1/artists/x", query="market=SE"))
    assert "HTTP/1.1 200" in answer
    seen = fake.app.seen[-1]
    assert seen["path"] == "/v1/artists/x?market=SE"
    assert seen["headers"]["Authorization"] == f"Bearer {standin.ACCESS}"
    assert standin.ACCESS not in console(flow).text
    refused = call(flow, "/v1/../authorize")
    assert refused.status_code == 400
    assert f"Only addresses under {fake.url}" in unescape(refused.text)


def test_a_429_shows_retry_after_and_a_challenge_names_the_scope():
    """The sandbox never answers 429 (it does not imitate Spotify's quota); a
    real provider's 429 and an RFC 6750 §3 ``scope`` attribute are explained."""
    import tomllib
    from pathlib import Path

    from flowlab.core.console.explain import explain
    from flowlab.core.console.explain import parse_challenge
    from flowlab.core.http import Message

    texts = tomllib.loads((Path(__file__).parent.parent / "content"
                           / "console.toml").read_text(encoding="utf-8"))
    call = {"method": "GET", "path": "/v1/me/top/artists", "token": "run"}

    def record(start: str, headers: list) -> dict:
        response = Message(start, headers, b"{}").to_json()
        return {"call": call, "scopes": "user-read-email",
                "exchange": {"request": Message("GET / HTTP/1.1").to_json(),
                             "response": response}}

    limited = explain(record("HTTP/1.1 429 Too Many Requests",
                             [("Retry-After", "30")]), [], texts)
    assert "Retry-After: 30" in limited["rate"][0] and "30 s" in limited["rate"][0]
    assert "RFC 6585 §4" in limited["status"][0]
    challenge = ('Bearer realm="api", error="insufficient_scope", '
                 'scope="user-top-read", error_description="needs \\"top\\""')
    assert parse_challenge(challenge) == ("Bearer", {
        "realm": "api", "error": "insufficient_scope", "scope": "user-top-read",
        "error_description": 'needs "top"'})
    refused = explain(record("HTTP/1.1 403 Forbidden",
                             [("WWW-Authenticate", challenge)]), [], texts)
    assert "`user-top-read`" in refused["scope"][0]
    assert "Missing: `user-top-read`" in refused["scope"][1]
    assert any("insufficient_scope" in line for line in refused["challenge"])
