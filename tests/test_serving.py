"""Serving with ``app.py``: 64 connections from one client that never finish their
request headers (Slowloris) stall no mode (the four modes held at the same time, each
by its own connections); gunicorn's proxy trust is kept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
HELD = 64  # connections that never finish their headers
HOLD = 30.0  # seconds they are held, the figure (gunicorn's timeout is 30 s)
ANSWER_WITHIN = 3.0  # seconds a normal GET / may take meanwhile
# Each mode's arguments and the page a normal visitor asks for.
MODES = {
    "one process (waitress)": (("--workers", "1"), "/"),
    "gunicorn workers": (("--workers", "2"), "/"),
    "sandbox only": (("--sandbox-only",), "/sandbox/"),
    "sandbox only, gunicorn workers": (("--sandbox-only", "--workers", "2"),
                                       "/sandbox/"),
}


class Apps:
    """``port, log = apps.start(*args)``: app.py in its own process, its state and
    logs under ``folder``; ``apps.stop()`` ends them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "FLOWLAB_SECRET_KEY": "slowloris-key",
                    "FLOWLAB_SANDBOX_DATABASE": str(folder / "sandbox.sqlite3"),
                    "FLOWLAB_RUNS_DATABASE": str(folder / "runs.sqlite3")}
        for name in ("FLOWLAB_SANDBOX_ONLY", "FLOWLAB_DATABASE_URL",
                     "FORWARDED_ALLOW_IPS"):
            self.env.pop(name, None)
        self.started: list = []

    def start(self, *args: str, **more_env: str) -> tuple[int, object]:
        port = free_port()
        log = open(self.folder / f"app-{port}.log", "w+")
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), *args], cwd=ROOT,
            env={**self.env, **more_env}, stdout=log, stderr=subprocess.STDOUT,
            text=True)
        self.started.append((process, log))
        process.stdout = log
        wait_for(port, process)
        return port, log

    def stop(self) -> None:
        for process, _ in self.started:  # all told at once, then waited for
            process.terminate()
        for process, log in self.started:
            # gunicorn's master waits up to its graceful timeout (30 s) for its
            # workers, one of which may still be importing the app on a busy machine.
            process.wait(timeout=45)
            log.close()


@pytest.fixture
def start_app(tmp_path):
    """``port, log = start_app(*args)``: app.py in its own process, stopped after."""
    apps = Apps(tmp_path)
    yield apps.start
    apps.stop()


def hold_open(port: int, stop: threading.Event, counts: dict) -> None:
    """Keep ``HELD`` connections sending one more header line every second and
    never the blank line that ends the headers; reopen any the server closes.
    Bounded: at most ``HOLD`` + 15 seconds and 4 × ``HELD`` connections.
    ``counts``: connections opened, and the fewest held after any second."""
    deadline = time.monotonic() + HOLD + 15
    held: list[socket.socket] = []

    def connect() -> None:
        if counts["opened"] >= 4 * HELD:
            return
        counts["opened"] += 1
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            return
        held.append(sock)

    try:
        for _ in range(HELD):
            connect()
        line = 0
        while not stop.is_set() and time.monotonic() < deadline:
            line += 1
            for sock in list(held):
                try:
                    sock.sendall(b"X-Slow-%d: x\r\n" % line)
                except OSError:  # the server gave up on it: come back
                    held.remove(sock)
                    sock.close()
                    connect()
            counts["fewest"] = min(counts["fewest"], len(held))
            stop.wait(1.0)
    finally:
        for sock in held:
            sock.close()


def get_page(url: str) -> tuple[int, float]:
    """A normal GET on a new connection: its status and how long it took."""
    began = time.monotonic()
    try:
        status = requests.get(url, timeout=ANSWER_WITHIN + 2,
                              headers={"Connection": "close"}).status_code
    except requests.RequestException:
        status = 0
    return status, time.monotonic() - began


def hold_and_measure(apps: Apps, mode: str) -> dict:
    """Serve ``mode``, hold ``HELD`` connections open for ``HOLD`` seconds and
    measure normal GETs meanwhile: what the test of that mode asserts on."""
    args, page = MODES[mode]
    port, log = apps.start(*args)
    url = f"http://127.0.0.1:{port}{page}"
    first = get_page(url)[0]
    stop, counts = threading.Event(), {"opened": 0, "fewest": HELD}
    loris = threading.Thread(target=hold_open, args=(port, stop, counts))
    loris.start()
    try:
        time.sleep(2)  # every held connection is open and has sent a first line
        answers = []
        end = time.monotonic() + HOLD - 2
        while time.monotonic() < end and len(answers) < 200:
            answers.append(get_page(url))
            time.sleep(0.5)
        # Capacity for real requests: a burst of 16 at once (2 workers × 8
        # threads, or the one process's 16 threads) is answered meanwhile too.
        with ThreadPoolExecutor(16) as pool:
            burst = list(pool.map(get_page, [url] * 16))
    finally:
        stop.set()
        loris.join(timeout=30)
    last = get_page(url)[0]
    log.seek(0)
    return {"first": first, "loris_alive": loris.is_alive(), "counts": counts,
            "answers": answers, "burst": burst, "last": last, "log": log.read()}


@pytest.fixture(scope="module")
def held(tmp_path_factory) -> Iterator[dict]:
    """Every mode served and held at once, each by its own process and its own
    ``HELD`` connections, over the same ``HOLD`` seconds (a quarter of the time
    one after another): each mode's measurements, or what stopped them."""
    apps = Apps(tmp_path_factory.mktemp("held"))

    def measure(mode: str):
        try:
            return hold_and_measure(apps, mode)
        except Exception as exc:  # reported by that mode's test
            return exc

    try:
        with ThreadPoolExecutor(len(MODES)) as pool:
            measured = dict(zip(MODES, pool.map(measure, MODES), strict=True))
        yield measured
    finally:
        apps.stop()


@pytest.mark.xdist_group("machine-load")  # with the workshops of test_runner_faults
@pytest.mark.parametrize("mode", MODES)
def test_held_connections_do_not_stall_serving(held, mode):
    measured = held[mode]
    if isinstance(measured, Exception):
        raise measured
    assert measured["first"] == 200
    assert not measured["loris_alive"]
    counts, answers, burst = (measured["counts"], measured["answers"],
                              measured["burst"])
    assert counts["fewest"] == HELD  # all 64 held (or reopened) the whole time
    slow = [(status, round(took, 1)) for status, took in answers
            if status != 200 or took > ANSWER_WITHIN]
    assert not slow, f"{len(slow)} of {len(answers)} GET / slow or failed: {slow}"
    assert len(answers) >= 10
    assert [status for status, _ in burst] == [200] * 16
    assert max(took for _, took in burst) <= ANSWER_WITHIN
    assert measured["last"] == 200
    assert "Traceback" not in measured["log"]


@pytest.mark.parametrize(("allowed", "scheme"), [(None, "https"),
                                                 ("10.9.9.9", "http")])
def test_workers_trust_forwarded_proto_from_the_allowed_proxy_only(start_app,
                                                                   allowed, scheme):
    """docs/deploy.md: gunicorn believes ``X-Forwarded-Proto`` from the addresses
    in ``FORWARDED_ALLOW_IPS`` only (127.0.0.1 by default)."""
    port, _ = start_app("--workers", "2",
                        **({"FORWARDED_ALLOW_IPS": allowed} if allowed else {}))
    metadata = requests.get(
        f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server/sandbox",
        headers={"X-Forwarded-Proto": "https"}, timeout=10).json()
    assert metadata["issuer"] == f"{scheme}://127.0.0.1:{port}/sandbox"
