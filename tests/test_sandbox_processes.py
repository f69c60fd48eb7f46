"""Two waitress processes share one SQLite file: a code issued by one is redeemed at
the other, and ``flask sandbox add-client`` writes to the same file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask import Config

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic

ROOT = Path(__file__).resolve().parent.parent
SECRET = "two-process-test-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture
def environment(tmp_path):
    env = {**os.environ, "FLOWLAB_SECRET_KEY": SECRET,
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "shared.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "runs.sqlite3")}
    env.pop("FLOWLAB_SANDBOX_ONLY", None)
    return env


@pytest.fixture
def two_servers(environment):
    processes, ports = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "app.py", "--sandbox-only", "--port", str(port)],
                cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
            ))
            ports.append(port)
        for port, process in zip(ports, processes, strict=True):
            wait_for(port, process)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()


def test_code_from_one_process_is_redeemed_at_the_other(two_servers):
    first, second = two_servers
    landing = requests.get(first + "/sandbox/")
    assert landing.status_code == 200 and "The sandbox provider" in landing.text
    config = Config(str(ROOT))
    config["SECRET_KEY"] = SECRET
    issuing = Sandbox(first, config)
    redeeming = Sandbox(second, config)
    code = issuing.code(issuing.web, scope="user-read-email")
    response = redeeming.redeem(code)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert issuing.api("/me", tokens["access_token"]).json()["email"]
    assert issuing.redeem(code).json()["error"] == "invalid_grant"
    assert redeeming.api("/me", tokens["access_token"]).status_code == 401


def test_cli_adds_a_client_the_server_knows(environment, two_servers):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "sandbox", "add-client",
         "--name", "From the CLI", "--redirect-uri", CALLBACK],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    client = json.loads(result.stdout)
    config = Config(str(ROOT))
    config["SECRET_KEY"] = SECRET
    sandbox = Sandbox(two_servers[1], config)
    response = sandbox.token({"grant_type": "client_credentials"},
                             basic(client["client_id"], client["client_secret"]))
    assert response.status_code == 200
