"""Several processes share one lab: `app.py --workers 2` (gunicorn), and two app
processes on two ports over the same SQLite files, as behind a load balancer."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests import standin
from tests.conftest import free_port
from tests.conftest import wait_for
from tests.flowrunner import FlowRunner
from tests.test_runner import STEPS

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "processes-secret-0123456789"
FLOWS = ["authorization-code-pkce", "authorization-code", "client-credentials"]



@pytest.fixture
def lab_env(tmp_path, fake) -> dict:
    """One instance folder and key for every process; Spotify is the stand-in."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "processes-key",
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "sandbox.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "runs.sqlite3"),
           "FLOWLAB_SPOTIFY_ACCOUNTS_URL": fake.url,
           "FLOWLAB_SPOTIFY_API_URL": fake.url}
    for name in ("FLOWLAB_SANDBOX_ONLY", "FLOWLAB_DATABASE_URL"):
        env.pop(name, None)
    return env


@pytest.fixture
def start_lab(lab_env, tmp_path):
    """``url = start_lab("--workers", "2")``: app.py in its own process."""
    processes = []

    def start(*args: str):
        port = free_port()
        log = open(tmp_path / f"lab-{port}.log", "w+")
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), *args], cwd=ROOT,
            env=lab_env, stdout=log, stderr=subprocess.STDOUT, text=True)
        processes.append((process, log))
        process.stdout = log
        wait_for(port, process)
        return f"http://127.0.0.1:{port}", log

    yield start
    for process, log in processes:
        process.terminate()
        process.wait(timeout=15)
        log.close()


class Server:
    """The ``server(path)`` callable FlowRunner expects, for a URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


class Alternating(requests.Session):
    """A browser behind a load balancer: one public address (the first URL), every
    request sent to the next of several lab processes."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self.netlocs = [urlsplit(url).netloc for url in urls]
        self.served: list[str] = []

    def request(self, method, url, **kwargs):
        parts = urlsplit(url)
        if parts.netloc in self.netlocs:
            netloc = self.netlocs[len(self.served) % len(self.netlocs)]
            self.served.append(netloc)
            url = parts._replace(netloc=netloc).geturl()
            kwargs["headers"] = {**(kwargs.get("headers") or {}),
                                 "Host": self.netlocs[0]}
        return super().request(method, url, **kwargs)


def _finished(runner: FlowRunner, flow: str) -> None:
    text = runner.page.text
    assert "run-step-failed" not in text
    assert "That is the whole flow" in text
    assert text.count("run-step-done") == STEPS[flow]


def test_workers_share_runs_and_each_has_a_back_channel(start_lab):
    url, log = start_lab("--workers", "2", "--access-log")
    for index in range(6):
        runner = FlowRunner(Server(url))
        runner.session.headers["Connection"] = "close"  # a new connection each time
        flow = FLOWS[index % len(FLOWS)]
        runner.start(flow).run_all()
        _finished(runner, flow)
    log.seek(0)
    text = log.read()
    assert "gunicorn, 2 processes of 8 threads" in text
    workers = set(re.findall(r"^<(\d+)> \"(?:GET|POST) /run", text, re.M))
    assert len(workers) == 2, text[-2000:]  # requests of a run landed on both
    assert "No private back channel" not in text


def test_a_run_and_a_secret_move_between_two_processes(start_lab, fake,
                                                       tmp_path):
    urls = [start_lab("--workers", "1")[0] for _ in range(2)]
    runner = FlowRunner(Server(urls[0]))
    runner.session = Alternating(urls)
    runner.start("authorization-code-pkce").run_all()
    _finished(runner, "authorization-code-pkce")
    assert {n for n in runner.session.served} == {urlsplit(u).netloc for u in urls}

    # A secret entered through one process, a real provider's run through both: its
    # state, verifier, code and tokens, sealed in the database, opened by each.
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("client-credentials").next()
    runner.start("authorization-code").run_all()
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    sent = [(s["headers"].get("Authorization"), s["body"].split("&")[0])
            for s in fake.app.seen if s["path"] == "/api/token"]
    assert sent[:3] == [(f"Basic {basic}", "grant_type=client_credentials"),
                        (f"Basic {basic}", "grant_type=authorization_code"),
                        (f"Basic {basic}", "grant_type=refresh_token")]
    api = [s["headers"]["Authorization"] for s in fake.app.seen
           if s["path"] == "/v1/me"]
    assert api[:1] == [f"Bearer {standin.ACCESS}"]
    # ... and the files the processes share hold none of it in the clear.
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite3*"))
    for secret in (SECRET, basic, standin.ACCESS, standin.REFRESH, standin.CODE):
        assert secret.encode() not in stored


def test_without_the_key_cookie_another_process_cannot_use_the_secret(start_lab):
    first, second = (start_lab("--workers", "1")[0] for _ in range(2))
    runner = FlowRunner(Server(first))
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    thief = FlowRunner(Server(second))  # the session cookie, not the key cookie
    thief.session.cookies.set("session", runner.session.cookies["session"])
    start = thief.get(second + "/run/client-credentials")
    assert "needs a client secret, and none was given" in start.text
    assert "Start the run" not in start.text
    own = runner.get(second + "/run/client-credentials")  # the owner, with the key
    assert "Start the run" in own.text
