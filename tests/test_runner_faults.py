"""Faults in a workshop: a worker killed mid-step, the database restarted.

Many attendees run the PKCE flow against ``app.py --workers 2`` while its workers are
SIGKILLed one after another, or while PostgreSQL restarts: every run reaches its end,
no one is held on a step for more than 10 seconds, and no one meets a dead end. On
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from flowlab.core.demo import demo_apps
from flowlab.core.provider import Provider
from flowlab.core.runner import claims
from flowlab.core.runner import store
from flowlab.core.runner.records import StepRecord
from flowlab.core.storage.db import LAB
from flowlab.core.storage.db import dispose
from flowlab.core.storage.tables import runs
from tests.conftest import LiveServer
from tests.conftest import database_config
from tests.conftest import free_port
from tests.conftest import make_app
from tests.conftest import wait_for
from tests.faults import Attendee
from tests.faults import CutAccounts
from tests.faults import Killer
from tests.flowrunner import FlowRunner
from tests.forms import submit

ROOT = Path(__file__).resolve().parent.parent
ATTENDEES = 36
AT_ONCE = 12  # attendees clicking at the same moment
HELD = 10.0  # seconds: the longest anyone may wait on one step
CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "faults-secret-0123456789"


@pytest.fixture(params=["sqlite", "postgresql"])
def lab_env(request, tmp_path) -> dict:
    """One key and database for the lab's processes: SQLite files or a schema of
    the session's PostgreSQL server."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "faults-key",
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "sandbox.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "runs.sqlite3")}
    for name in ("FLOWLAB_SANDBOX_ONLY", "FLOWLAB_DATABASE_URL"):
        env.pop(name, None)
    if request.param == "postgresql":
        env["FLOWLAB_DATABASE_URL"] = request.getfixturevalue(
            "pg_server").schema_url()
    return env


@pytest.fixture
def lab(lab_env, tmp_path):
    """``python app.py --workers 2`` on a free port: its URL and its process."""
    port = free_port()
    log = open(tmp_path / "lab.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--workers", "2"], cwd=ROOT,
        env=lab_env, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.stdout = log
    wait_for(port, process)
    yield f"http://127.0.0.1:{port}", process
    process.terminate()
    process.wait(timeout=15)
    log.close()


def _workshop(base: str, during) -> list[Attendee]:
    """Run every attendee, AT_ONCE at a time, while ``during`` makes its fault."""
    attendees = [Attendee(base) for _ in range(ATTENDEES)]
    fault = threading.Thread(target=during, daemon=True)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        fault.start()
        list(pool.map(Attendee.run, attendees))
    fault.join(timeout=60)
    return attendees


def _alerts(page) -> list[str]:
    """What a page's alerts say (a failed step's error), for a failure's message."""
    found = re.findall(r'role="alert"[^>]*>(.*?)</div>', page.text, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split())[:300] for f in found]


def _every_run_ended(attendees: list[Attendee]) -> None:
    stuck = [(a.dead_end, a.trail[-4:], _alerts(a.page)) for a in attendees
             if a.dead_end]
    assert not stuck, stuck
    held = sorted(round(a.held, 1) for a in attendees)
    assert held[-1] <= HELD, held
    assert all("That is the whole flow" in a.page.text for a in attendees)


# The workshops and tests/test_serving.py's held connections load the machine most:
# one worker runs them one after another, never two at once (conftest.py).
@pytest.mark.xdist_group("machine-load")
def test_workers_killed_mid_workshop_strand_no_one(lab):
    base, process = lab
    killer = Killer(process.pid)
    attendees = _workshop(base, killer.run)
    assert len(killer.killed) == killer.times  # the faults really happened
    _every_run_ended(attendees)
    assert not [a.trail for a in attendees if a.failed_pages]  # no error page


@pytest.mark.xdist_group("machine-load")
@pytest.mark.parametrize("lab_env", ["postgresql"], indirect=True)
def test_database_restarted_mid_workshop_strands_no_one(lab, request):
    pg = request.getfixturevalue("pg_server")
    base, _ = lab

    def restarts():
        for _ in range(2):
            time.sleep(3)
            pg.restart()

    attendees = _workshop(base, restarts)
    _every_run_ended(attendees)


# Deterministic, one fault at a time.

def test_a_database_away_is_503_with_retry_after_in_each_clients_shape(
        tmp_path, pg_server):
    """Every answer while the database is down says "a moment" (RFC 9110 §15.6.4):
    OAuth JSON from the token endpoint, Spotify's error JSON from the Web API, the
    lab's error page elsewhere; never a 500."""
    server = LiveServer(make_app(tmp_path, **database_config(pg_server)))
    try:
        web = demo_apps(server.app.config)[0]
        with pg_server.stopped():
            token = requests.post(server("/sandbox/api/token"), timeout=30,
                                  data={"grant_type": "client_credentials"},
                                  auth=(web.client_id, web.client_secret))
            api = requests.get(server("/sandbox/v1/me"), timeout=30,
                               headers={"Authorization": "Bearer nothing-yet"})
            page = requests.get(server("/runs/no-such-run"), timeout=30)
        for answer in (token, api, page):
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
        assert token.json()["error"] == "temporarily_unavailable"
        assert token.headers["Cache-Control"] == "no-store"
        assert api.json()["error"]["status"] == 503
        assert "Try again" in page.text or "try again" in page.text
        assert requests.post(server("/sandbox/api/token"), timeout=30,
                             data={"grant_type": "client_credentials"},
                             auth=(web.client_id, web.client_secret)).ok  # back
    finally:
        server.close()
        dispose(server.app)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, tmp_path):
    """An app on SQLite files or on a schema of the session's PostgreSQL."""
    pg = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    app = make_app(tmp_path, **database_config(pg))
    app.pg = pg
    yield app
    dispose(app)


def _in_child(app, run_id: str, then) -> int:
    """Fork a process that claims the run's step, then does ``then`` (exits, or
    waits to be killed); the child's pid once it holds the claim."""
    ready, told = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: claim, tell the parent, then go on as asked
        try:
            with app.app_context():
                assert claims.claim(store.load(run_id, "owner"))
            os.write(told, b"x")
            then()
        finally:
            os._exit(0)
    os.close(told)
    assert os.read(ready, 1) == b"x"
    os.close(ready)
    return pid


def test_a_claim_whose_process_died_is_free_at_once(any_app):
    with any_app.app_context():
        run = store.create("owner", "client-credentials", Provider(kind="sandbox"))
    child = _in_child(any_app, run.id, lambda: os.kill(os.getpid(), signal.SIGKILL))
    # Killed, not yet reaped by its parent (as gunicorn's master does soon after).
    os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
    try:
        with any_app.app_context():
            taken = claims.claim(store.load(run.id, "owner"))
            assert taken  # at once, not after the stale time
            assert taken.interrupted  # the dead one's try left no outcome
    finally:
        os.waitpid(child, 0)


def test_a_claim_whose_process_lives_holds_until_it_dies(any_app):
    with any_app.app_context():
        run = store.create("owner", "client-credentials", Provider(kind="sandbox"))
    child = _in_child(any_app, run.id, lambda: time.sleep(60))
    try:
        with any_app.app_context():
            busy = claims.claim(store.load(run.id, "owner"))
            assert not busy and busy.since  # running elsewhere: the page says so
            assert busy.free_at == pytest.approx(busy.since + claims.stale_time())
            assert claims.stale_time() < 30  # bounded by the outbound deadline
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    with any_app.app_context():
        assert claims.claim(store.load(run.id, "owner"))


def test_a_claim_held_on_another_machine_waits_for_the_stale_time(any_app):
    with any_app.app_context():
        run = store.create("owner", "client-credentials", Provider(kind="sandbox"))
        LAB.get().execute(update(runs).where(runs.c.id == run.id).values(
            claimed=1, claimed_at=time.time(), claimed_by="elsewhere~boot/1/1"))
        assert not claims.claim(store.load(run.id, "owner"))
        assert claims.claim(store.load(run.id, "owner"), stale_after=-1)


def test_a_failed_save_releases_the_claim(any_app):
    """A save cut off by a database restart (PostgreSQL), or refused because the
    run changed meanwhile (both): the step is free again at once."""
    with any_app.app_context():
        run = store.create("owner", "client-credentials", Provider(kind="sandbox"))
        mine = store.load(run.id, "owner")
        taken = claims.claim(mine)
        assert taken
        mine.steps.append(StepRecord(id="token", status="done"))
        if any_app.pg:
            any_app.pg.restart()
            with pytest.raises(SQLAlchemyError):
                store.save(mine)
        else:
            assert store.save(store.load(run.id, "owner"))  # another tab saved
            assert not store.save(mine)
        claims.let_go(mine, taken, saved=False)
        again = claims.claim(store.load(run.id, "owner"))
        assert again and again.interrupted



def _words(page) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def _flash(page) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", " ".join(
        re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page.text, re.S)))).split())


def test_a_step_cut_off_is_run_again_by_the_next_click(serve, fake):
    """The token request is read and never answered (the worker died): not a
    failure of the flow; the page says so, and Next runs the step again."""
    accounts = CutAccounts()
    try:
        lab = serve(SPOTIFY_ACCOUNTS_URL=accounts.url, SPOTIFY_API_URL=fake.url)
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
        runner.start("client-credentials")
        page = runner.next()
        assert len(accounts.token_requests) == 1  # sent, and no answer came
        assert "connection to the provider broke" in _flash(page)
        assert "Next to run this step again" in _flash(page)
        assert "run-step-failed" not in page.text and "The run stopped" not in page.text
        assert runner.step_count() == 0  # nothing recorded
        page = runner.next()  # clicked again: the step runs again, and succeeds
        assert len(accounts.token_requests) == 2
        assert runner.step_count() == 1 and "run-step-failed" not in page.text
        assert not _flash(page)
        assert 'id="next"' in page.text  # the run goes on
    finally:
        accounts.close()


def test_a_provider_down_for_a_moment_is_run_again_by_the_next_click(serve, fake):
    """The token endpoint answers 503 (its database restarting, say): the step is
    interrupted, not failed, and the run does not stop. Any other 5xx is the step's
    outcome (tests/test_providers.py: a 502 page is a failed step)."""
    body = b"<h1>Down for a moment</h1>"
    accounts = CutAccounts(first=b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1"
                           b"\r\nContent-Type: text/html\r\nConnection: close\r\n"
                           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    try:
        lab = serve(SPOTIFY_ACCOUNTS_URL=accounts.url, SPOTIFY_API_URL=fake.url)
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
        runner.start("client-credentials")
        page = runner.next()
        assert len(accounts.token_requests) == 1
        assert "The provider answered 503 Service Unavailable" in _flash(page)
        assert "Next to run this step again" in _flash(page)
        assert "run-step-failed" not in page.text and "The run stopped" not in page.text
        assert runner.step_count() == 0
        page = runner.next()
        assert len(accounts.token_requests) == 2
        assert runner.step_count() == 1 and "run-step-failed" not in page.text
        assert 'id="next"' in page.text
    finally:
        accounts.close()


def test_a_step_cut_off_after_sending_the_code_offers_to_sign_in_again(serve, fake):
    """The code went out and no answer came: it may be spent, so the page says so
    and offers to sign in again from the authorization request; the run goes on."""
    accounts = CutAccounts()
    try:
        lab = serve(SPOTIFY_ACCOUNTS_URL=accounts.url, SPOTIFY_API_URL=fake.url)
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
        runner.start("authorization-code-pkce")
        runner.next()  # the authorization request
        runner.authorize()  # back with a code: next is the token request
        page = runner.next()
        assert len(accounts.token_requests) == 1  # sent, and no answer came
        assert "run-step-failed" not in page.text and "The run stopped" not in page.text
        assert "may have used the code" in _words(page)
        assert "Sign in again from the authorization request" in _words(page)
        assert 'id="next"' not in page.text  # the code is not sent twice
        page = runner.get(runner.run_url)  # reloaded: still the way on
        assert "Sign in again" in page.text and 'id="next"' not in page.text
        page = runner.follow(submit(runner.session, page, "Sign in again"))
        assert "authorization request" in _flash(page)
        assert runner.step_count() == 0
        page = runner.run_all()
        assert "That is the whole flow" in page.text
        assert "run-step-failed" not in page.text
        assert len(accounts.token_requests) >= 2
    finally:
        accounts.close()


def test_a_second_click_while_the_step_runs_says_so(serve, fake):
    lab = serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("client-credentials")
    fake.app.mode = "slow"  # the token endpoint answers after 2.5 s
    first = threading.Thread(target=submit, args=(runner.session, runner.page,
                                                  "Next"))
    first.start()
    time.sleep(1)
    page = runner.follow(submit(runner.session, runner.page, "Next"))
    first.join()
    said = _flash(page)
    assert "already running in another request" in said
    assert re.search(r"started \d+ s ago", said)
    wait = int(re.search(r"finished in (\d+) s", said).group(1))
    assert 0 < wait <= 25
    assert runner.step_count() == 0
    page = runner.get(runner.run_url)  # reloaded: the first click's outcome
    assert runner.step_count() == 1


def test_a_callback_retried_after_its_run_took_it_leads_back_to_the_run(serve):
    """The worker that took the redirect died before answering; the browser asks
    for the same URL again and lands on the run's current step."""
    lab = serve()
    runner = FlowRunner(lab).start("authorization-code-pkce")
    runner.next()  # the authorization request
    page = runner.next()  # at the provider
    if "Agree" not in page.text:
        page = runner.follow(submit(runner.session, page, "alice"))
    answer = submit(runner.session, page, "Agree")  # the redirect back
    callback = urljoin(answer.url, answer.headers["Location"])
    assert "/run/callback?" in callback and "state=" in callback
    runner.follow(answer)  # the run took it (its worker then died, say)
    again = runner.session.get(callback, allow_redirects=False, timeout=10)
    assert again.status_code == 303
    assert again.headers["Location"].startswith(runner.run_url.replace(lab.url, ""))
    page = runner.follow(again)
    assert "No run is waiting" not in page.text
    assert "run-step-failed" not in page.text
    assert 'id="next"' in page.text  # its current step, with the way on
    state = re.search(r"state=([^&]+)", callback).group(1)
    assert state in page.text  # shown as before: a state is no secret
    stranger = requests.get(callback, allow_redirects=False, timeout=10)
    assert stranger.status_code == 400  # another browser: nothing to lead back to


def test_a_save_cut_off_by_a_database_restart_says_so_and_next_retries(
        pg_server, fake, tmp_path):
    """PostgreSQL restarts while the token request is out: the step's save fails,
    the page says so, and Next runs the step again at once (its claim let go)."""
    lab = LiveServer(make_app(tmp_path, SPOTIFY_ACCOUNTS_URL=fake.url,
                              SPOTIFY_API_URL=fake.url,
                              **database_config(pg_server)))
    try:
        runner = FlowRunner(lab)
        runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
        runner.start("client-credentials")
        fake.app.mode = "slow"  # the token endpoint answers after 2.5 s
        restart = threading.Timer(0.8, pg_server.restart)
        restart.start()
        page = runner.next()
        restart.join()
        said = _flash(page)
        assert "outcome could not be saved" in said
        assert "Next to run this step again" in said
        assert runner.step_count() == 0 and "run-step-failed" not in page.text
        fake.app.mode = "ok"
        clicked = time.monotonic()
        page = runner.next()
        assert time.monotonic() - clicked < 5  # not held until the stale time
        assert runner.step_count() == 1 and not _flash(page)
    finally:
        lab.close()
        dispose(lab.app)
