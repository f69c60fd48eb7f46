"""Two sandbox processes share one database (one SQLite file, or one PostgreSQL
schema on that backend): a code issued by one is redeemed at the other, and
``flask sandbox add-client`` writes to the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from flask import Config

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic

ROOT = Path(__file__).resolve().parent.parent
SECRET = "standalone-key"  # the key of the sandbox_env fixture


@pytest.fixture
def environment(sandbox_env):
    return sandbox_env


@pytest.fixture
def two_servers(sandbox_processes):
    return sandbox_processes(2)


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
         "--name", "From the CLI", "--redirect-uri", CALLBACK,
         "--grant", "client_credentials"],
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
