"""Edit and send again: a step's request as a form, sent as a branch of the run.

Over HTTP against the live app and its sandbox. Each test drives a run the way a
browser does (``FlowRunner``), opens a step's "Edit and send" form, changes rows and
sends; the branch's page shows the answer beside the original's, with what changed
and the error explained (RFC 6749 §4.1.2.1, §5.2; RFC 7636 §4.6).
"""

from __future__ import annotations

import base64
import re
import sqlite3
from contextlib import closing
from html import unescape
from urllib.parse import urljoin

import pytest
import requests

from tests import standin
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner
from tests.forms import submit

PKCE = "authorization-code-pkce"
CODE = "authorization-code"
BEST = "Use the sandbox (best practice)"
CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "sealed-secret-0123456789abcdef"


def run_until(runner: FlowRunner, done: int) -> FlowRunner:
    """Click Next (logging in and agreeing) until ``done`` steps are recorded."""
    for _ in range(20):
        if runner.step_count() >= done:
            return runner
        if "/authorize?" in (runner.next_link() or ""):
            runner.authorize()
        else:
            runner.next()
    raise AssertionError("the run did not get that far")


def started(live_server, flow: str, done: int, provider: str | None = None):
    runner = FlowRunner(live_server)
    if provider:
        runner.use_provider(provider)
    runner.start(flow)
    return run_until(runner, done)


def edit_page(runner: FlowRunner, number: int) -> requests.Response:
    """The step page's "Edit and send" link, followed."""
    page = runner.get(f"{runner.run_url}?step={number}")
    link = re.search(r'<a[^>]*id="edit-send"[^>]*href="([^"]+)"', page.text)
    assert link, f"no Edit and send on step {number}"
    return runner.get(urljoin(page.url, unescape(link.group(1))))


def rows(page: requests.Response) -> dict[str, int]:
    """The form's rows: name -> index."""
    found = re.findall(r'name="row-(\d+)-name"[^>]*value="([^"]*)"', page.text)
    return {unescape(name): int(index) for index, name in found}


def send(runner: FlowRunner, page, drop=(), change=None, add=(), **fields):
    """Fill the form: drop rows by name, change their values, add new ones."""
    index = rows(page)
    data = dict(fields)
    for name in drop:
        data[f"row-{index[name]}-remove"] = "1"
    for name, value in (change or {}).items():
        data[f"row-{index[name]}-value"] = value
    free = sorted(int(i) for i in re.findall(r'name="row-(\d+)-name" [^>]*value=""',
                                             page.text))
    for (where, name, value), slot in zip(add, free, strict=False):
        data.update({f"row-{slot}-where": where, f"row-{slot}-name": name,
                     f"row-{slot}-value": value})
    return runner.follow(submit(runner.session, page, "Send", **data))


def at_provider(runner: FlowRunner, page, agree: bool = True):
    """At the sandbox, as a browser: log in as alice, then Agree or Cancel."""
    if "/beside" in page.url:
        return page
    if "Agree" not in page.text:
        page = runner.follow(submit(runner.session, page, "alice"))
    if "Agree" in page.text:
        page = runner.follow(submit(runner.session, page,
                                    "Agree" if agree else "Cancel"))
    if "Continue to the app" in page.text:  # an error for an unapproved app
        link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*Continue to the app',
                         page.text)
        page = (runner.follow(runner.session.get(
            urljoin(page.url, unescape(link.group(1))), allow_redirects=False,
            timeout=10)) if link else runner.follow(
            submit(runner.session, page, "Continue to the app")))
    return page


def exports(runner: FlowRunner) -> dict[str, bytes]:
    """The run's exports; not ``.http``, whose each download makes a fresh state
    and verifier for the learner to run by hand."""
    return {fmt: runner.session.get(f"{runner.run_url}/export.{fmt}",
                                    timeout=10).content
            for fmt in ("json", "har", "sh", "md")}


def section(page: requests.Response, id_: str) -> str:
    """The text of the page's section ``id_``, tags taken out."""
    found = re.search(rf'<section id="{id_}"[^>]*>(.*?)</section>', page.text, re.S)
    assert found, page.text[:2000]
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(found.group(1))).split())


def said(page: requests.Response) -> str:
    """The branch's answer as the page explains it."""
    return section(page, "server-said")


def code(page: requests.Response) -> str | None:
    """The error code the branch's answer carried, as the page names it."""
    found = re.search(r'<code id="branch-code">([^<]+)</code>', page.text)
    return unescape(found.group(1)) if found else None


def status(page: requests.Response) -> str:
    return unescape(re.search(r'<strong id="branch-status">([^<]+)</strong>',
                              page.text).group(1))


def test_drop_code_verifier_is_refused_beside_the_original(live_server):
    """Spotify today answers a missing verifier as real Spotify does (the glossary's
    ``code_verifier``: invalid_request, code_verifier required)."""
    runner = started(live_server, PKCE, 4)
    before = exports(runner)
    revealed = runner.get(f"{runner.run_url}?step=1&reveal=1").text
    verifier = re.search(r'code_verifier</strong> \(random, kept by the app\): '
                         r'<code class="value">([^<]+)', revealed).group(1)
    page = edit_page(runner, 4)
    assert page.status_code == 200
    assert "POST" in page.text and "/api/token" in page.text
    assert "{{code_verifier}}" in page.text and verifier not in page.text
    answer = send(runner, page, drop=["code_verifier"])
    assert answer.status_code == 200 and "/beside" in answer.url
    text = said(answer)
    assert code(answer) == "invalid_request" and "code_verifier required" in text
    assert "RFC 9700 §4.8.2" in text
    assert "removed form code_verifier" in section(answer, "changes")
    assert verifier not in answer.text
    # The original is untouched, to the byte, and lists its branch.
    assert exports(runner) == before
    step = runner.get(f"{runner.run_url}?step=4")
    assert re.search(r'class="run-branch"[^>]*>\s*<a href="[^"]*/beside"', step.text)
    branch_url = answer.url.removesuffix("/beside")
    for fmt in ("json", "har", "sh"):
        branch = runner.session.get(f"{branch_url}/export.{fmt}", timeout=10)
        assert branch.status_code == 200 and verifier not in branch.text


def test_drop_code_verifier_is_invalid_grant_at_best_practice(live_server):
    """As issue 20 asks (OAuth 2.1 §4.1.3); the Spotify issuer says
    invalid_request, as Spotify does."""
    runner = started(live_server, PKCE, 4, provider=BEST)
    answer = send(runner, edit_page(runner, 4), drop=["code_verifier"])
    assert code(answer) == "invalid_grant"


def test_a_wrong_code_verifier_is_invalid_grant(live_server):
    """RFC 7636 §4.6: a verifier that does not hash to the challenge."""
    runner = started(live_server, PKCE, 4)
    answer = send(runner, edit_page(runner, 4),
                  change={"code_verifier": "x" * 43})
    assert code(answer) == "invalid_grant"
    assert "code_verifier was incorrect" in said(answer)


def test_change_redirect_uri_is_invalid_grant(live_server):
    runner = started(live_server, PKCE, 4)
    page = edit_page(runner, 4)
    answer = send(runner, page,
                  change={"redirect_uri": live_server("/elsewhere/callback")})
    assert code(answer) == "invalid_grant" and "Invalid redirect URI" in said(answer)
    assert "changed form redirect_uri" in section(answer, "changes")


def test_sending_the_code_twice_is_refused_and_revokes_its_tokens(live_server):
    runner = started(live_server, PKCE, 5)  # the API answered with the token
    answer = send(runner, edit_page(runner, 4))
    assert code(answer) == "invalid_grant" and "RFC 6749 §4.1.2" in said(answer)
    # The token that code gave is revoked: the API step, sent again, is refused.
    api = send(runner, edit_page(runner, 5))
    assert status(api).startswith("401") and code(api) == "invalid_token"


def test_a_wider_scope_at_refresh_is_invalid_scope(live_server):
    runner = started(live_server, PKCE, 8)  # through the first refresh
    page = edit_page(runner, 8)
    wider = "user-read-private user-read-email playlist-read-private user-follow-modify"
    answer = send(runner, page, add=[("form", "scope", wider)])
    assert code(answer) == "invalid_scope"  # RFC 6749 §6


def test_plain_at_the_best_practice_issuer_is_refused(live_server):
    runner = started(live_server, CODE, 1, provider=BEST)
    page = edit_page(runner, 1)
    assert "GET" in page.text and "/authorize" in page.text
    answer = at_provider(runner, send(runner, page,
                                      change={"code_challenge_method": "plain"}))
    # The browser went to the authorization server and came back with its answer.
    assert "/beside" in answer.url, answer.url
    assert code(answer) == "invalid_request" and "RFC 7636" in said(answer)


def test_a_wrong_client_secret_is_401_at_best_practice(live_server):
    runner = started(live_server, CODE, 4, provider=BEST)
    page = edit_page(runner, 4)
    answer = send(runner, page,
                  change={"Authorization": "Basic {{client_id}}:not-the-secret"})
    assert code(answer) == "invalid_client" and status(answer).startswith("401")
    assert "WWW-Authenticate" in said(answer)


def test_a_wrong_client_secret_is_400_at_spotify_today(live_server):
    runner = started(live_server, CODE, 4)
    page = edit_page(runner, 4)
    answer = send(runner, page,
                  change={"Authorization": "Basic {{client_id}}:not-the-secret"})
    assert code(answer) == "invalid_client" and status(answer).startswith("400")


def test_the_path_stays_on_the_steps_endpoint(live_server):
    runner = started(live_server, PKCE, 4)
    page = edit_page(runner, 4)
    answer = send(runner, page, path="/elsewhere/token")
    assert answer.status_code == 400
    assert "role=\"alert\"" in answer.text and "/elsewhere/token" in answer.text
    answer = send(runner, page, path="http://127.0.0.9/sandbox/api/token")
    assert answer.status_code == 400


def test_an_unknown_placeholder_is_named(live_server):
    runner = started(live_server, PKCE, 4)
    page = edit_page(runner, 4)
    answer = send(runner, page, change={"code": "{{nothing_here}}"})
    assert answer.status_code == 400 and "nothing_here" in answer.text


def test_more_rows_without_javascript(live_server):
    runner = started(live_server, PKCE, 4)
    page = edit_page(runner, 4)
    before = len(re.findall(r'name="row-\d+-name"', page.text))
    more = submit(runner.session, page, "More rows")
    assert more.status_code == 200
    assert len(re.findall(r'name="row-\d+-name"', more.text)) > before
    assert "{{code_verifier}}" in more.text


def test_another_browser_cannot_edit_or_see_the_branch(live_server):
    runner = started(live_server, PKCE, 4)
    page = edit_page(runner, 4)
    answer = send(runner, page, drop=["code_verifier"])
    stranger = requests.Session()
    assert stranger.get(page.url, timeout=10).status_code == 404
    assert stranger.get(answer.url, timeout=10).status_code == 404


def test_the_branch_is_compared_with_its_original(live_server):
    runner = started(live_server, PKCE, 4)
    answer = send(runner, edit_page(runner, 4), drop=["code_verifier"])
    link = re.search(r'<a[^>]*href="([^"]*/compare\?[^"]+)"', answer.text)
    assert link
    compare = runner.get(urljoin(answer.url, unescape(link.group(1))))
    assert compare.status_code == 200 and "code_verifier" in compare.text


def test_the_front_channel_answer_is_taken_by_the_branch(live_server):
    """The edited authorization request goes from the browser; the redirect back
    (here an error, RFC 6749 §4.1.2.1) lands in the branch, its state checked."""
    runner = started(live_server, PKCE, 1)
    before = exports(runner)
    page = edit_page(runner, 1)
    sent = send(runner, page, change={"scope": "user-read-private"})
    answer = at_provider(runner, sent, agree=False)
    assert "/beside" in answer.url, answer.url
    assert code(answer) == "access_denied" and "RFC 6749 §4.1.2.1" in said(answer)
    assert "changed query scope" in section(answer, "changes")
    assert exports(runner) == before


@pytest.mark.sqlite_only
def test_a_real_providers_branch_keeps_its_secrets_sealed(serve, tmp_path):
    """Against Spotify (a stand-in): the form names the secrets, the provider gets
    the real values, the database holds none of them in clear."""
    fake = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    try:
        lab = serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
        runner.start(CODE).run_all()
        page = edit_page(runner, 4)
        assert "/api/token" in page.text
        for secret in (SECRET, standin.CODE):
            assert secret not in page.text
        assert "{{code}}" in page.text
        assert "Basic {{client_id}}:{{client_secret}}" in page.text
        answer = send(runner, page)
        assert status(answer).startswith("200") and standin.ACCESS not in answer.text
        token = [s for s in fake.app.seen if s["path"] == "/api/token"][-1]
        basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        assert token["headers"]["Authorization"] == f"Basic {basic}"
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite3*"))
        for secret in (SECRET, basic, standin.ACCESS, standin.CODE):
            assert secret.encode() not in stored
        with closing(sqlite3.connect(tmp_path / "runs.sqlite3")) as conn:
            assert conn.execute("SELECT count(*) FROM run_secrets").fetchone() == (2,)
    finally:
        fake.close()


def test_a_path_under_the_api_base_may_be_asked(live_server):
    runner = started(live_server, PKCE, 5)
    page = edit_page(runner, 5)
    path = re.search(r'id="path" name="path"[^>]*value="([^"]+)"', page.text).group(1)
    assert path.endswith("/v1/me")
    answer = send(runner, page, path=path + "/playlists")
    assert status(answer).startswith("200") and code(answer) is None
    assert "/v1/me/playlists" in answer.text


def test_a_branch_is_no_new_run_in_the_rooms_counts(serve):
    server = serve()
    runner = started(server, "client-credentials", 1)
    send(runner, edit_page(runner, 1))
    room = requests.get(server("/presenter/room.json"), timeout=10).json()
    counts = {flow["id"]: flow["runs"] for flow in room["flows"]}
    assert counts["client-credentials"] == 1
    assert "a branch of run" in runner.get(server("/run/")).text


def test_a_token_the_run_no_longer_keeps_is_named_too(live_server):
    """Step 5 sent the first access token; the refresh since replaced it. Its row
    names it (``sent_access_token``) rather than show it, and sends it: the step
    after expired it, so the API refuses it as expired (RFC 6750 §3.1)."""
    runner = started(live_server, PKCE, 8)
    revealed = unescape(runner.get(f"{runner.run_url}?step=5&reveal=1").text)
    first = re.search(r"Bearer ([A-Za-z0-9._~+/=-]{20,})", revealed).group(1)
    page = edit_page(runner, 5)
    assert first not in page.text
    assert "Bearer {{sent_access_token}}" in unescape(page.text)
    answer = send(runner, page)
    assert status(answer).startswith("401") and code(answer) == "invalid_token"
    assert first not in answer.text
