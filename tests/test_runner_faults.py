"""Faults in a workshop: a worker killed mid-step, the database restarted.

Many attendees run the PKCE flow against ``app.py --workers 2`` while its workers are
SIGKILLed one after another, or while PostgreSQL restarts: every run reaches its end,
no one is held on a step for more than 10 seconds, and no one meets a dead end. On
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.conftest import wait_for
from tests.faults import Attendee
from tests.faults import Killer

ROOT = Path(__file__).resolve().parent.parent
ATTENDEES = 36
AT_ONCE = 12  # attendees clicking at the same moment
HELD = 10.0  # seconds: the longest anyone may wait on one step


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


def _every_run_ended(attendees: list[Attendee]) -> None:
    stuck = [(a.dead_end, a.trail[-4:]) for a in attendees if a.dead_end]
    assert not stuck, stuck
    held = sorted(round(a.held, 1) for a in attendees)
    assert held[-1] <= HELD, held
    assert all("That is the whole flow" in a.page.text for a in attendees)


def test_workers_killed_mid_workshop_strand_no_one(lab):
    base, process = lab
    killer = Killer(process.pid)
    attendees = _workshop(base, killer.run)
    assert len(killer.killed) == killer.times  # the faults really happened
    _every_run_ended(attendees)
    assert not [a.trail for a in attendees if a.failed_pages]  # no error page


def test_database_restarted_mid_workshop_strands_no_one(lab, lab_env, request):
    if "FLOWLAB_DATABASE_URL" not in lab_env:
        pytest.skip("a restart of the database server: PostgreSQL only")
    pg = request.getfixturevalue("pg_server")
    base, _ = lab

    def restarts():
        for _ in range(2):
            time.sleep(3)
            pg.restart()

    attendees = _workshop(base, restarts)
    _every_run_ended(attendees)
