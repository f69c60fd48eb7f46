"""A throwaway PostgreSQL 15 server for the tests that run on both backends.

``initdb`` makes a cluster in a temporary folder and ``pg_ctl`` starts it on a free
port of 127.0.0.1, once per session, stopped and deleted at the end. Each app under
test gets a schema of its own (``schema_url``), so tests never see each other's
rows. The server runs as the ``postgres`` user when the tests run as root (it refuses
to run as root). Under ``CI=true`` a missing server fails the run; elsewhere the
PostgreSQL half of the suite skips with the reason (as ``tests/browser.py`` does).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin() -> Path:
    """FLOWLAB_PG_BIN, else Debian's newest server (15 on these machines)."""
    if os.environ.get("FLOWLAB_PG_BIN"):
        return Path(os.environ["FLOWLAB_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _bin()
_schemas = itertools.count(1)


def unavailable(reason: str):
    """Fail under CI, skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@dataclass
class PgServer:
    folder: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def schema_url(self) -> str:
        """A URL whose tables live in a new, empty schema of their own."""
        import psycopg

        name = f"t{os.getpid()}_{next(_schemas)}"
        with psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def restart(self) -> None:
        """Restart the server as an operator would mid-workshop: every connection
        is cut (``-m fast``), then it listens again on the same port."""
        done = self.ctl("-w", "-t", "60", "-m", "fast", "-l",
                        str(self.folder / "log"), "restart")
        if done.returncode:
            raise RuntimeError("pg_ctl restart failed:\n" + done.stderr)

    @property
    def options(self) -> str:
        """The server's settings: its port, socket folder, and speed over safety."""
        return (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                " -c max_connections=300")

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The server down for the block (every connection cut), then up again."""
        for action in (("-m", "fast", "stop"), ("-o", self.options, "start")):
            if action[-1] == "start":
                yield
            done = self.ctl("-w", "-t", "60", "-l", str(self.folder / "log"), *action)
            if done.returncode:
                raise RuntimeError(f"pg_ctl {action[-1]} failed:\n" + done.stderr)

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, str(BIN / "pg_ctl"), "-D", str(self.folder / "data"),
             *args], capture_output=True, text=True, timeout=60)


def _runner() -> list[str]:
    """Run the server's commands as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("running as root and there is no postgres user")
    return ["runuser", "-u", "postgres", "--"]


def start() -> PgServer:
    """initdb, then pg_ctl start on a free port; fsync off: the data is thrown away."""
    if not (BIN / "initdb").exists():
        unavailable(f"no initdb in {BIN} (make test installs Debian\'s postgresql)")
    as_user = _runner()
    folder = Path(tempfile.mkdtemp(prefix="flowlab-pg-"))
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    made = subprocess.run(
        [*as_user, str(BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust",
         "-U", "postgres", "-E", "UTF8", "--no-instructions"],
        capture_output=True, text=True, timeout=120)
    if made.returncode:
        unavailable("initdb failed:\n" + made.stderr)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = PgServer(folder, port, as_user)
    started = server.ctl("-w", "-t", "60", "-l", str(folder / "log"), "-o",
                         server.options, "start")
    if started.returncode:
        log = (folder / "log").read_text(errors="replace") if (
            folder / "log").exists() else ""
        stop(server)
        unavailable("pg_ctl start failed:\n" + started.stderr + log)
    return server


def stop(server: PgServer) -> None:
    server.ctl("-m", "immediate", "stop")
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the whole session, started on first use."""
    server = start()
    yield server
    stop(server)
