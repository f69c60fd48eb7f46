"""Attack labs with several processes: `app.py --workers 2` serves every lab, its
attacker on 127.0.0.2 included, whichever worker takes each request; runs live in
the database, where concurrent saves of one run lose nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest
import requests

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.labs.store import RunStore
from flowlab.web import attacker
from tests.conftest import ROOT
from tests.conftest import database_config
from tests.conftest import free_port
from tests.conftest import wait_for
from tests.labs_helpers import form_token
from tests.labs_helpers import sign_in
from tests.labs_helpers import start

VARIANTS = ("vulnerable", "defended")
LOGGED = re.compile(r'^<(\d+)> "(?:GET|POST) /labs/([\w-]+)/(\w+)', re.M)


class Server:
    """The ``server(path)`` callable the lab helpers expect, for a URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def labs_env(tmp_path) -> dict:
    """One key and database for the processes (SQLite files or a PostgreSQL
    schema, as the test's backend)."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "labs-processes-key",
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "sandbox.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "runs.sqlite3")}
    for name in ("FLOWLAB_SANDBOX_ONLY", "FLOWLAB_DATABASE_URL"):
        env.pop(name, None)
    url = database_config().get("DATABASE_URL")
    if url:
        env["FLOWLAB_DATABASE_URL"] = url
    return env


@pytest.fixture
def two_workers(labs_env, tmp_path):
    """``python app.py --workers 2`` on a free port; its URL and its log."""
    port = free_port()
    log = open(tmp_path / "lab.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--workers", "2",
         "--access-log"], cwd=ROOT, env=labs_env, stdout=log,
        stderr=subprocess.STDOUT, text=True)
    process.stdout = log
    wait_for(port, process)
    yield Server(f"http://127.0.0.1:{port}"), log
    process.terminate()
    process.wait(timeout=15)
    log.close()


class Browser(requests.Session):
    """A browser that opens a new connection for every request, so gunicorn's
    workers take turns at them, and gives up on a silent listener."""

    def __init__(self) -> None:
        super().__init__()
        self.headers["Connection"] = "close"

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(method, url, **kwargs)



def play(server: Server, lab: str, variant: str) -> str:
    """One whole lab run as victim and attacker; the run page at the end."""
    victim = Browser()
    attacker_page = start(victim, server, lab, variant)  # found on the run page
    if lab == "csrf-state":
        bait = Browser().get(attacker_page)
        link = bait.text.split('id="bait" href="', 1)[1].split('"', 1)[0]
        return victim.get(link.replace("&amp;", "&")).text
    signed_in = sign_in(victim, server, lab, variant, "alice")
    if lab == "code-interception":
        assert signed_in.url.startswith("http://127.0.0.2:")  # the other app
        status = "HTTP/1.1 200" if variant == "vulnerable" else "HTTP/1.1 400"
        assert status in signed_in.text
        return victim.get(server(f"/labs/{lab}/{variant}")).text
    thief = Browser()
    loot = thief.get(attacker_page)
    assert "grant_type=authorization_code" in loot.text
    thief.post(attacker_page, data={"csrf_token": form_token(loot)})
    return victim.post(server(f"/labs/{lab}/{variant}/recheck"),
                       data={"csrf_token": form_token(signed_in)}).text


def test_every_lab_runs_across_two_workers(two_workers):
    server, log = two_workers
    index = Browser().get(server("/labs/"))
    assert "attacker's site is not running" not in index.text
    for lab in ("csrf-state", "code-interception", "code-replay"):
        for variant in VARIANTS:
            page = play(server, lab, variant)
            verdict = "Attack succeeded" if variant == "vulnerable" else "Attack failed"
            assert verdict in page, (lab, variant)
            assert ("Bob Okafor" in page) == (
                lab == "csrf-state" and variant == "vulnerable")
    log.seek(0)
    text = log.read()
    assert "gunicorn, 2 processes" in text and "no attacker" not in text
    served = defaultdict(set)  # each run's requests (one run per lab variant)
    for pid, lab, variant in LOGGED.findall(text):
        served[lab, variant].add(pid)
    assert len(set().union(*served.values())) == 2, text[-2000:]
    assert any(len(pids) == 2 for pids in served.values()), served


def test_saves_that_race_keep_both_changes(app):
    """Two requests read the same run; both save; nothing either did is lost."""
    store = RunStore(app)
    run = store.new(lab="code-replay", variant="defended", browser="b",
                    origin="http://127.0.0.1:1", backchannel="http://127.0.0.1:2")
    run.client["state"] = "s1"
    assert store.save(run)
    first, second = store.get(run.id), store.get(run.id)
    message = Exchange(Message("GET /labs HTTP/1.1", [("Host", "x")]))
    first.record("authorize", "victim", "front", message)
    first.client["linked"] = "Alice Lindqvist"
    assert store.save(first)
    second.record("replay", "attacker", "back", message)
    second.client.pop("state")
    second.attacker["seen"] = True
    assert store.save(second)  # a stale version: merged onto the stored run
    stored = store.get(run.id)
    assert [e.key for e in stored.trace] == ["authorize", "replay"]
    assert stored.client == {"linked": "Alice Lindqvist"}
    assert stored.attacker == {"seen": True} and stored.version == 3
    assert stored.trace[0].exchange.request.headers == [("Host", "x")]
    assert store.find("code-replay", "s1") is None


def test_waiting_state_finds_its_run(app):
    store = RunStore(app)
    run = store.new(lab="code-interception", variant="vulnerable", browser="b",
                    origin="o", backchannel="c")
    run.client["state"] = "waiting"
    store.save(run)
    assert store.find("code-interception", "waiting").id == run.id
    assert store.find("csrf-state", "waiting") is None
    # The browser's next run of the same lab variant replaces this one.
    store.new(lab="code-interception", variant="vulnerable", browser="b",
              origin="o", backchannel="c")
    assert store.get(run.id) is None


def test_no_attacker_address_leaves_a_clear_message(app, monkeypatch):
    monkeypatch.setattr(attacker, "HOST", "192.0.2.1")  # TEST-NET: not ours
    attacker.share(app)
    assert attacker.start(app) is None
    assert "LABS_ATTACKER_URL" not in app.config
    page = app.test_client().get("/labs/")
    assert "attacker's site is not running" in page.text
    assert "127.0.0.2" in page.text
