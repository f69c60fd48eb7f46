"""README's "any provider" recipe, run as written: the lab with ``make run``, a
second sandbox with ``make sandbox``, an app registered with the command the README
gives, then /provider with the README's discovery URL and a flow over HTTP."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from app import trust_bound_host
from tests.conftest import exclusive
from tests.conftest import free_port
from tests.conftest import wait_for
from tests.flowrunner import FlowRunner

ROOT = Path(__file__).resolve().parent.parent
# The venv is there; make must not reinstall it (no network in tests).
MAKE = ["make", "-s", "-o", ".venv/.installed"]


def recipe() -> str:
    """The README's section on using a second sandbox as any provider."""
    text = (ROOT / "README.md").read_text()
    start = text.index("### Any provider: a second sandbox")
    return text[start:text.index("\n## ", start)]


def commands(section: str) -> list[str]:
    """The command lines of the section's shell blocks, in order."""
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def field(section: str, label: str) -> str:
    return re.search(rf"- {label}: `([^`]+)`", section).group(1)


class Lab:
    """The lab as ``make run`` serves it, on a free port (the Makefile's PORT)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def env(tmp_path) -> dict:
    """A fresh clone's settings, with the state in a temporary folder."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "recipe-key",
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "sandbox.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "runs.sqlite3")}
    for name in ("FLOWLAB_TRUSTED_HOSTS", "FLOWLAB_PUBLIC_URL", "FLOWLAB_DATABASE_URL",
                 "FLOWLAB_SANDBOX_ONLY", "FLOWLAB_SANDBOX_URL", "FLASK_APP"):
        env.pop(name, None)
    return env


@pytest.fixture
def processes():
    """Start long-running commands in their own process groups; end them after."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], env: dict) -> subprocess.Popen:
        started.append(subprocess.Popen(argv, cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT,
                                        start_new_session=True))
        return started[-1]

    yield start
    for process in started:  # make and the server it started
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        process.stdout.close()


@pytest.fixture
def readme_address() -> Iterator[str]:
    """The README's fixed sandbox address (127.0.0.3:5001), held by this test
    alone until its servers are stopped: one xdist worker runs it (its group) and
    a lock keeps other test runs on this machine off it meanwhile."""
    address = urlsplit(field(recipe(), "Discovery URL")).netloc
    with exclusive(address):
        yield address


@pytest.mark.xdist_group("readme-sandbox-address")
def test_the_readme_any_provider_recipe_works_as_written(readme_address, env,
                                                         processes):
    section = recipe()
    serve_sandbox, register = commands(section)
    assert serve_sandbox == "make sandbox"
    assert "`make run`" in section
    discovery_url = field(section, "Discovery URL")
    sandbox = urlsplit(discovery_url)
    with socket.socket() as probe:
        assert probe.connect_ex((sandbox.hostname, sandbox.port)) != 0, (
            f"{sandbox.netloc} is taken: stop the `make sandbox` running there")

    port = free_port()
    lab_process = processes([*MAKE, "run", f"PORT={port}", "WORKERS=1"], env)
    sandbox_process = processes([*MAKE, *shlex.split(serve_sandbox)[1:]], env)
    wait_for(port, lab_process)
    wait_for(sandbox.port, sandbox_process, host=sandbox.hostname)
    # It answers to its own address, and still not to a name rebound to it.
    metadata = requests.get(discovery_url, timeout=10)
    assert metadata.status_code == 200, metadata.text
    rebound = requests.get(discovery_url, timeout=10,
                           headers={"Host": f"rebound.example:{sandbox.port}"})
    assert rebound.status_code == 400
    made = subprocess.run(shlex.split(register), cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120, check=True)
    app = json.loads(made.stdout)

    lab = Lab(port)
    runner = FlowRunner(lab)
    page = runner.use_provider(
        "Use this provider", discovery_url=discovery_url,
        api_base=field(section, "API base URL"), client_id=app["client_id"],
        client_secret=app["client_secret"])
    flashed = re.findall(r'class="flash flash-error"[^>]*>([^<]*)', page.text)
    assert page.status_code == 200, flashed
    issuer = discovery_url.replace("/.well-known/oauth-authorization-server", "")
    assert f"Now: Provider at {issuer}" in page.text
    shown = re.search(r'<code id="own-redirect">([^<]+)</code>', page.text).group(1)
    registered = app["redirect_uris"][0]  # without a port (RFC 8252 §7.3)
    assert shown == registered.replace("127.0.0.1/", f"127.0.0.1:{port}/")

    runner.start("authorization-code").run_all()
    assert "run-step-failed" not in runner.page.text
    assert "That is the whole flow" in runner.page.text
    first = runner.get(f"{runner.run_url}?step=1").text
    assert issuer + "/authorize" in first  # the run went to the second sandbox


@pytest.mark.parametrize(("host", "trusted"), [
    ("127.0.0.3", ["127.0.0.1", "localhost", "127.0.0.3"]),
    ("127.0.0.1", ["127.0.0.1", "localhost"]),
    ("[::1]", ["127.0.0.1", "localhost", "::1"]),
    ("0.0.0.0", ["127.0.0.1", "localhost"]),  # FLOWLAB_PUBLIC_URL names that one
    ("::", ["127.0.0.1", "localhost"]),
])
def test_a_server_trusts_the_address_it_listens_on(host, trusted):
    app = Flask(__name__)
    app.config["TRUSTED_HOSTS"] = ["127.0.0.1", "localhost"]
    trust_bound_host(app, host)
    assert app.config["TRUSTED_HOSTS"] == trusted
