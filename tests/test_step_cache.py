"""The kept step page (flowlab/web/stepcache.py): a reload is served the page it
would render, never an older one and never another browser's."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
