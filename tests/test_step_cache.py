"""The kept step page (flowlab/web/stepcache.py): a reload is served the page it
would render, never an older one and never another browser's."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.runner import branch
from flowlab.core.runner import store
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs
from tests.flowrunner import FlowRunner

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "kept-page-secret-0123456789abcdef"


def _heading(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _twice(runner: FlowRunner, url: str) -> str:
    """The page, loaded twice (the second is served kept), both the same."""
    first = runner.get(url).text
    again = runner.get(url).text
    assert again == first
    return again


def _in_database(server, run_url: str, then) -> None:
    """Do ``then(run)`` with the run as stored, straight in the database, as
    another process would (no request of this server knows of it)."""
    run_id = urlsplit(run_url).path.rsplit("/", 1)[1]
    with server.app.app_context():
        owner = LAB.get().execute(select(runs.c.owner)
                                  .where(runs.c.id == run_id)).scalar_one()
        then(store.load(run_id, owner))


def _set(**values):
    """A change of the run's row, for ``_in_database``."""
    return lambda run: LAB.get().execute(update(runs).where(runs.c.id == run.id)
                                         .values(**values))


def test_the_page_after_next_shows_the_new_step(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    before = _twice(runner, runner.run_url)
    assert "Step 1:" not in _heading(before)
    runner.next()
    after = runner.get(runner.run_url).text
    assert "Step 1:" in _heading(after)
    assert 'class="run-step run-step-done"' in after


def test_another_browser_gets_no_page_and_its_own_token(live_server):
    owner = FlowRunner(live_server).start("client-credentials")
    owner.run_all()
    page = _twice(owner, owner.run_url)
    other = FlowRunner(live_server)
    assert other.get(owner.run_url).status_code == 404  # the owner's page was kept
    assert other.get(owner.run_url + "?step=1").status_code == 404
    mine = FlowRunner(live_server).start("client-credentials")
    mine.run_all()
    assert _csrf(_twice(mine, mine.run_url)) != _csrf(page)
    assert _csrf(page) == _csrf(owner.get(owner.run_url).text)


def test_reveal_is_never_kept_nor_served_masked(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    url = runner.run_url + "?step=1"
    assert "Reveal them" in _twice(runner, url)
    shown = runner.get(url + "&reveal=1")
    assert "shown in full" in shown.text and "Reveal them" not in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    assert "Reveal them" in runner.get(url).text
    assert "shown in full" in runner.get(url + "&reveal=1").text


def test_a_flashed_message_shows_once_and_large_type_is_its_own_page(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    plain = _twice(runner, runner.run_url)
    assert 'class="large-type"' not in plain
    path = urlsplit(runner.run_url).path
    switched = runner.session.post(
        live_server("/workshop/large-type"),
        data={"csrf_token": _csrf(plain), "on": "1", "next": path})
    assert switched.url == runner.run_url and "Large type is on." in switched.text
    assert 'class="large-type"' in switched.text
    again = _twice(runner, runner.run_url)
    assert "Large type is on." not in again and 'class="large-type"' in again
    runner.session.post(live_server("/workshop/large-type"),
                        data={"csrf_token": _csrf(plain), "next": path})
    assert 'class="large-type"' not in runner.get(runner.run_url).text



def test_the_page_after_forget_holds_no_secret(serve, fake):
    lab = serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("client-credentials").run_all()
    assert 'id="console-link"' in _twice(runner, runner.run_url)
    token = _csrf(runner.get(lab("/provider")).text)
    runner.session.post(lab("/provider/forget"), data={"csrf_token": token})
    assert 'id="console-link"' not in runner.get(runner.run_url).text


def test_a_run_saved_by_another_process_is_not_served_its_old_page(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    done = _twice(runner, runner.run_url)
    assert "run-step-done" in done and 'id="next"' not in done
    _in_database(live_server, runner.run_url, _set(
        steps="[]", status="active", version=runs.c.version + 1))
    again = _twice(runner, runner.run_url)
    assert 'id="next"' in again and "run-step-done" not in again


def test_a_claim_let_go_elsewhere_is_shown_though_the_version_stays(live_server):
    """A try of the code exchange cut off in another process, its claim let go of
    (which bumps no version): the page says the code may be spent."""
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()  # the authorization request
    runner.authorize()  # back with a code: next is the token request
    assert 'id="next"' in _twice(runner, runner.run_url)

    def cut_off(run):  # as claims.claim, then claims.release, leave it
        _set(claimed=len(run.steps) * 1000 + 1, claimed_at=time.time(),
             claimed_by="")(run)

    _in_database(live_server, runner.run_url, cut_off)
    page = _twice(runner, runner.run_url)
    assert "Sign in again" in page and 'id="next"' not in page


def test_a_branch_made_elsewhere_is_listed_and_an_expired_run_is_gone(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    assert "run-branch" not in _twice(runner, runner.run_url)
    _in_database(live_server, runner.run_url,
                 lambda run: branch.open_branch(run, 1, 3600))
    assert "Branch 1 from step 1" in _twice(runner, runner.run_url)
    _in_database(live_server, runner.run_url, _set(expires=time.time() - 1))
    assert runner.get(runner.run_url).status_code == 404
