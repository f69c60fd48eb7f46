"""Share a run: a read-only link anyone can open, every secret masked and no way
to reveal one, revocable by the run's owner (issue 20, part 5). Over HTTP."""

from __future__ import annotations

import re
import secrets
from html import unescape
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import shares
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.keep_helpers import finished
from tests.keep_helpers import leaked
from tests.keep_helpers import real_secrets

FORMATS = ("md", "sh", "http", "json", "har")
ACTIONS = ("Next:", "Reveal them", "Compare with", "Start again", "Sign in again",
           "Edit and send", "Console", "Create a share link", "Revoke")


def _share(runner: FlowRunner) -> tuple[str, requests.Response]:
    """Click "Create a share link" on the run's page: the link, and the page that
    shows it."""
    page = runner.session.get(runner.run_url, timeout=10)
    made = submit(runner.session, page, "Create a share link")
    assert made.status_code == 303
    shown = runner.session.get(urljoin(made.url, made.headers["Location"]),
                               timeout=10)
    link = re.search(r'(http://[^"<\s]+/shared/[\w-]+)', shown.text).group(1)
    return link, shown


@pytest.fixture(scope="module")
def shared(live_server):
    runner = finished(live_server, "authorization-code")
    link, _ = _share(runner)
    return runner, link, real_secrets(runner)


def _steps(link: str, viewer: requests.Session) -> list[requests.Response]:
    first = viewer.get(link, timeout=10)
    assert first.status_code == 200
    count = len(re.findall(r'class="run-step run-step-', first.text))
    return [first, *(viewer.get(f"{link}?step={n}", timeout=10)
                     for n in range(1, count + 1))]


def test_anyone_with_the_link_sees_the_steps_with_every_secret_masked(
        live_server, shared):
    runner, link, found = shared
    assert len(found) >= 4  # code, client secret and its Basic form, tokens
    viewer = requests.Session()  # no cookies of the owner
    pages = _steps(link, viewer)
    assert len(pages) > 4
    exports = sorted(set(re.findall(r'href="(/shared/[\w-]+/export\.\w+[^"]*)"',
                                    "".join(p.text for p in pages))))
    assert len(exports) == len(FORMATS)
    downloads = [viewer.get(live_server(unescape(url)), timeout=10)
                 for url in exports]
    token = link.rsplit("/", 1)[1]
    downloads += [viewer.get(f"{link}/export.{fmt}?secrets=1", timeout=10)
                  for fmt in FORMATS]
    downloads += [viewer.get(f"{link}?step=2&reveal=1", timeout=10)]
    for answer in pages + downloads:
        assert answer.status_code == 200, answer.url
        assert leaked(answer.text, found) == [], answer.url
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["X-Robots-Tag"] == "noindex"
        assert "Set-Cookie" not in answer.headers  # the viewer gets no identity
    for page in pages:
        words = " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
        assert "read-only" in words
        assert not re.search(r'<form[^>]*method="post"', page.text), page.url
        assert "<button" not in page.text, page.url
        # "Next →" only moves to the next recorded step of the shared run.
        for target in re.findall(r'<a id="next"[^>]*href="([^"]+)"', page.text):
            assert unescape(target).startswith(f"/shared/{token}?step="), target
        assert [a for a in ACTIONS if re.search(rf">\s*{a}\b", page.text)] == [], \
            page.url
        assert "/runs/" not in page.text  # no address of the owner's pages
        assert token in page.text  # its own links keep the token
    # The viewer did not become the owner.
    run_id = runner.run_url.rsplit("/", 1)[1]
    assert run_id in pages[0].text
    assert viewer.get(runner.run_url, timeout=10).status_code == 404
    assert viewer.get(runner.run_url + "/export.json", timeout=10).status_code == 404
    assert run_id not in viewer.get(live_server("/run/"), timeout=10).text


def test_the_share_shows_only_its_run(live_server):
    runner = finished(live_server, "client-credentials")
    other = runner.run_url.rsplit("/", 1)[1]
    runner.start("client-credentials").run_all()
    link, _ = _share(runner)
    viewer = requests.Session()
    for page in _steps(link, viewer):
        assert other not in page.text
    assert other not in viewer.get(f"{link}?run={other}", timeout=10).text
    assert viewer.get(live_server(f"/runs/{other}"), timeout=10).status_code == 404


def test_the_owner_revokes_the_link(live_server):
    runner = finished(live_server, "client-credentials")
    link, shown = _share(runner)
    viewer = requests.Session()
    assert viewer.get(link, timeout=10).status_code == 200
    revoked = submit(runner.session, shown, "Revoke")
    assert revoked.status_code == 303
    for url in (link, f"{link}?step=1", f"{link}/export.json"):
        gone = viewer.get(url, timeout=10)
        assert gone.status_code == 404
        assert gone.headers["Referrer-Policy"] == "no-referrer"
    # A new link works again, the revoked one stays revoked.
    again, _ = _share(runner)
    assert again != link and viewer.get(again, timeout=10).status_code == 200
    assert viewer.get(link, timeout=10).status_code == 404


def test_a_guessed_token_is_not_found(live_server, shared):
    viewer = requests.Session()
    for token in (secrets.token_urlsafe(24), "x", shared[1].rsplit("/", 1)[1][:-1]):
        answer = viewer.get(live_server(f"/shared/{token}"), timeout=10)
        assert answer.status_code == 404
        assert answer.headers["X-Robots-Tag"] == "noindex"


def test_the_token_is_kept_only_as_a_hash(live_server, shared):
    token = shared[1].rsplit("/", 1)[1]
    with LAB.connection(live_server.app) as conn:
        rows = [dict(r) for r in conn.execute(select(shares)).mappings()]
    assert rows and all(token not in str(row) for row in rows)
    assert {"token_hash", "run_id", "created_at", "revoked_at"} <= set(rows[0])


def test_only_the_owner_shares_and_revokes_and_with_the_forms_token(live_server):
    runner = finished(live_server, "client-credentials")
    stranger = requests.Session()
    stranger.get(live_server("/run/"), timeout=10)
    made = stranger.post(runner.run_url + "/shares", data={}, timeout=10,
                         allow_redirects=False)
    assert made.status_code in (400, 404)
    forged = runner.session.post(runner.run_url + "/shares",
                                 data={"csrf_token": "forged"}, timeout=10,
                                 allow_redirects=False)
    assert forged.status_code == 400
    link, shown = _share(runner)
    form = re.search(r'<form[^>]*action="([^"]+/revoke)"', shown.text)
    assert form
    url = live_server(unescape(form.group(1)))
    assert runner.session.post(url, data={"csrf_token": "forged"},
                               timeout=10).status_code == 400
    page = stranger.get(live_server("/run/"), timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"csrf_token": token.group(1)} if token else {}
    assert stranger.post(url, data=data, timeout=10,
                         allow_redirects=False).status_code in (400, 404)
    assert requests.get(link, timeout=10).status_code == 200


def test_a_run_shared_midway_offers_no_way_on(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    while "/authorize?" not in (runner.next_link() or ""):
        runner.next()
    link, _ = _share(runner)
    page = requests.get(link + "?step=1", timeout=10)
    assert page.status_code == 200
    assert not re.search(r'href="[^"]*/authorize\?', page.text)
    assert 'id="next"' not in page.text  # step 1 is the last one recorded
    assert not re.search(r'<form[^>]*method="post"', page.text)
