"""Storage on both backends: migrations, write transactions, the atomic idioms, and
two app servers (separate processes, one database) sharing runs and codes."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time

import pytest
from alembic.script import ScriptDirectory
from flask import Config
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text

from flowlab.core.storage.db import LAB
from flowlab.core.storage.db import SANDBOX
from flowlab.core.storage.db import engine_url
from flowlab.core.storage.db import make_engine
from flowlab.core.storage.db import migrate
from flowlab.core.storage.db import transaction
from flowlab.core.storage.migrations import HERE as MIGRATIONS
from flowlab.core.storage.migrations import heads
from flowlab.core.storage.sandbox_tables import clients
from flowlab.sandbox import grants
from tests.conftest import ROOT
from tests.conftest import free_port
from tests.conftest import make_app
from tests.conftest import wait_for
from tests.flowrunner import FlowRunner
from tests.sandbox_helpers import Sandbox

HEADS = set(ScriptDirectory(str(MIGRATIONS)).get_heads())


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u@db/flowlab", "postgresql+psycopg://u@db/flowlab"),
    ("postgres://u@db/flowlab", "postgresql+psycopg://u@db/flowlab"),
    ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
    ("sqlite:////srv/lab.sqlite3", "sqlite:////srv/lab.sqlite3"),
])
def test_database_urls_use_the_shipped_driver(url, expected):
    assert engine_url(url) == expected


def database_urls(env: dict) -> list[str]:
    """The databases an app started with ``env`` uses: one URL, or two files."""
    if env.get("FLOWLAB_DATABASE_URL"):
        return [env["FLOWLAB_DATABASE_URL"]]
    return ["sqlite:///" + env["FLOWLAB_SANDBOX_DATABASE"],
            "sqlite:///" + env["FLOWLAB_RUNS_DATABASE"]]


def versions(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        found = sorted(found)
    engine.dispose()
    return found


START = """import sys, time
from flowlab import create_app
at = float(sys.argv[1])
time.sleep(max(0, at - time.time()))
create_app({"SECRET_KEY": "k"}, instance_path=sys.argv[2])
print("started")
"""


def test_two_processes_migrate_a_new_database_together(sandbox_env, tmp_path):
    """Both start at the same moment; one migrates, the other waits, then both run."""
    at = str(time.time() + 1.5)
    processes = [subprocess.Popen(
        [sys.executable, "-c", START, at, str(tmp_path / "instance")], cwd=ROOT,
        env=sandbox_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [o.strip().splitlines()[-1:] for o in outputs] == [["started"]] * 2, outputs
    found = [versions(url) for url in database_urls(sandbox_env)]
    assert sorted(sum(found, [])) == sorted(HEADS)  # each branch at its head, once


def test_migrating_again_changes_nothing(app):
    for handle in (SANDBOX, LAB):
        migrate(handle.engine(app), handle.name)
    with SANDBOX.connection(app) as conn:
        assert conn.execute(select(clients.c.client_id)).scalars().all()  # demo apps
    urls = {SANDBOX.url(app), LAB.url(app)}
    assert sorted(sum((versions(url) for url in urls), [])) == sorted(HEADS)


def test_the_heads_read_without_alembic_are_alembics():
    assert set(heads()) == {"sandbox", "lab"} and set(heads().values()) == HEADS


RESTART = """import sys
from flowlab import create_app
from flowlab.sandbox import store
writes = []
upsert = store.upsert
store.upsert = lambda *args: writes.append(args) or upsert(*args)
create_app({"SECRET_KEY": "k"}, instance_path=sys.argv[1])
print("alembic" in sys.modules, len(writes))
"""


def test_a_restart_loads_no_alembic_and_rewrites_no_app(sandbox_env, tmp_path):
    """The schema is current and the demo and lab apps are as they should be."""
    def start() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", RESTART, str(tmp_path / "instance")], cwd=ROOT,
            env=sandbox_env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    start()
    assert start() == ["False", "0"]


@pytest.mark.sqlite_only
def test_a_database_one_revision_behind_is_still_migrated(tmp_path):
    make_app(tmp_path)
    runs = tmp_path / "runs.sqlite3"
    with sqlite3.connect(runs) as conn:  # as it was before lab_0012
        conn.execute("DROP TABLE weak_servers")
        conn.execute("UPDATE alembic_version SET version_num = 'lab_0011_branches'")
    make_app(tmp_path)
    with sqlite3.connect(runs) as conn:
        assert conn.execute("SELECT count(*) FROM weak_servers").fetchone() == (0,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (heads()["lab"],)]


def test_a_failed_transaction_leaves_nothing(app):
    with SANDBOX.connection(app) as conn:
        with pytest.raises(RuntimeError), transaction(conn):
            conn.execute(insert(clients).values(
                client_id="half-made", name="x", confidential=False,
                response_types="code", grant_types="implicit", redirect_uris="x",
                created_at=0))
            raise RuntimeError("between two statements")
        found = conn.execute(select(clients).where(clients.c.client_id == "half-made"))
        assert found.first() is None


def test_a_code_is_claimed_once(app):
    """Claim-where-unused: the row count says who won (RFC 6749 §4.1.2)."""
    with SANDBOX.connection(app) as conn:
        client_id = conn.execute(select(clients.c.client_id)).scalars().first()
        grants.save_code(conn, "the-code", 600, client_id=client_id, user_id="alice",
                         redirect_uri="x", scopes=[], challenge=None, method=None)
        assert grants.claim_code(conn, "the-code") is True
        assert grants.claim_code(conn, "the-code") is False
        assert grants.find_code(conn, "the-code").used


OLD_RUNS = """
CREATE TABLE runs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, flow TEXT NOT NULL,
    provider TEXT NOT NULL, secrets TEXT NOT NULL, steps TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL);
PRAGMA user_version = 1;
"""


@pytest.mark.sqlite_only
def test_a_runs_file_from_before_migrations_keeps_its_runs(tmp_path):
    """The old start-up dropped an older runs table; now its columns are added."""
    with sqlite3.connect(tmp_path / "runs.sqlite3") as old:
        old.executescript(OLD_RUNS)
        old.execute("INSERT INTO runs VALUES ('r1', 'me', 'client-credentials',"
                    " '{\"kind\": \"sandbox\"}', '{}', '[{\"id\": \"token\"}]',"
                    " 'active', ?, ?)", (time.time(), time.time() + 3600))
    app = make_app(tmp_path)
    from flowlab.core.runner import claims
    from flowlab.core.runner import store

    with app.test_request_context():
        run = store.load("r1", "me")
        assert run is not None and run.options == {} and run.version == 0
        assert claims.claim(run)
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        assert conn.execute("SELECT step FROM runs").fetchone() == ("token",)


class Served:
    """``python app.py`` on a free port, as a load balancer's backend would be."""

    def __init__(self, env: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def stop(self) -> None:
        """Gone for good: a graceful stop (tested in test_serving.py), else killed,
        as a balancer's backend may be; a busy machine can outlast the grace."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process.stdout.close()


@pytest.fixture
def two_app_servers(sandbox_env):
    env = {key: value for key, value in sandbox_env.items()
           if key != "FLOWLAB_TRUSTED_HOSTS"}
    servers = [Served(env), Served(env)]
    try:
        for server in servers:
            wait_for(server.port, server.process, timeout=60)
        yield servers
    finally:
        for server in servers:
            server.stop()


def _done(runner) -> list[str]:
    return re.findall(r'class="run-step run-step-(done|failed)"', runner.page.text)


def test_two_app_servers_share_runs_and_codes(two_app_servers):
    first, second = two_app_servers
    runner = FlowRunner(first).start("client-credentials")
    runner.next()
    assert _done(runner) == ["done"]
    runner.server = second  # the balancer sends the next requests elsewhere
    page = runner.get(runner.run_url.replace(first.url, second.url))
    assert page.status_code == 200 and _done(runner) == ["done"]
    page = runner.run_all()
    assert page.url.startswith(second.url) and "That is the whole flow" in page.text

    # Redirects follow the URIs the run was started with (the first server's);
    # every page of the run reads the same rows on either server.
    runner = FlowRunner(first).start("authorization-code-pkce")
    runner.next()
    runner.server = second
    runner.get(runner.run_url.replace(first.url, second.url))
    runner.run_all()
    for server in (first, second):
        page = runner.get(server("/runs/" + runner.run_url.rpartition("/")[2]))
        assert "That is the whole flow" in page.text and "failed" not in _done(runner)

    config = Config(str(ROOT))
    config["SECRET_KEY"] = "standalone-key"  # the key of the sandbox_env fixture
    issuing, redeeming = Sandbox(first.url, config), Sandbox(second.url, config)
    code = issuing.code(issuing.web, scope="user-read-email")
    tokens = redeeming.redeem(code)
    assert tokens.status_code == 200, tokens.text
    assert issuing.api("/me", tokens.json()["access_token"]).status_code == 200
    assert issuing.redeem(code).json()["error"] == "invalid_grant"  # used, there


def test_a_run_outlives_the_server_that_started_it(two_app_servers):
    """The next step calls the back channel of the process that runs it, not the
    (now gone) one of the process that started the run. Client credentials: every
    step is a back-channel call (behind a real balancer both servers share one
    public address, which two local ports cannot show for the browser's hops)."""
    first, second = two_app_servers
    runner = FlowRunner(first).start("client-credentials")
    runner.next()
    first.stop()
    runner.server = second
    runner.get(runner.run_url.replace(first.url, second.url))
    page = runner.run_all()
    assert "That is the whole flow" in page.text and "failed" not in _done(runner)
