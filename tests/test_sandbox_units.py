"""Sandbox domain code as plain functions: redirect matching, registration rules,
purging, and that no secret, code or token reaches the logs."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select
from sqlalchemy import text

from flowlab.core.storage.db import make_engine
from flowlab.core.storage.sandbox_tables import SANDBOX_TABLES
from flowlab.sandbox import grants
from flowlab.sandbox import housekeeping
from flowlab.sandbox.redirects import redirect_matches
from flowlab.sandbox.redirects import registration_problem
from flowlab.sandbox.store import DB
from tests.sandbox_helpers import Sandbox

PORTLESS = ("http://127.0.0.1/cb", "http://[::1]/cb")
EXACT = ("https://app.example/cb", "http://127.0.0.1:5000/cb", "com.example.app:/cb")


@pytest.mark.parametrize("uri, expected", [
    ("http://127.0.0.1/cb", True), ("http://127.0.0.1:1/cb", True),
    ("http://[::1]:65535/cb", True), ("http://127.0.0.1:65536/cb", False),
    ("http://127.0.0.1:0/cb", False), ("http://127.0.0.1:01/cb", False),
    ("http://127.0.0.1:/cb", False), ("http://127.0.0.1:80@evil/cb", False),
    ("http://127.0.0.1:80.evil/cb", False), ("http://127.0.0.1:80/cb/", False),
    ("http://127.0.0.1:80/cb?x", False), ("http://127.0.0.1:80/cb#x", False),
    ("http://127.0.0.1:80/CB", False), ("https://127.0.0.1:80/cb", False),
    ("http://127.0.0.1:80\n/cb", False), ("http://127.0.0.1:8 0/cb", False),
])
def test_portless_loopback_matching(uri, expected):
    assert redirect_matches(PORTLESS, uri) is expected


@pytest.mark.parametrize("uri, expected", [
    ("https://app.example/cb", True), ("https://app.example:443/cb", False),
    ("https://App.example/cb", False), ("http://127.0.0.1:5000/cb", True),
    ("http://127.0.0.1:5001/cb", False), ("http://127.0.0.1/cb", False),
    ("com.example.app:/cb", True), ("com.example.app://cb", False),
])
def test_exact_matching(uri, expected):
    assert redirect_matches(EXACT, uri) is expected


@pytest.mark.parametrize("uri, allowed", [
    ("https://app.example/cb", True), ("http://127.0.0.1:8000/cb", True),
    ("http://[::1]/cb", True), ("com.example.app:/cb", True),
    ("http://localhost/cb", False), ("http://10.0.0.2/cb", False),
    ("https://app.example/cb#f", False), ("https://user@app.example/cb", False),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("cb", False),
    ("https:///cb", False), ("https://app.example/c b", False),
])
def test_registration_rules(app, uri, allowed):
    with app.app_context():
        assert (registration_problem(uri) is None) is allowed


def test_workshop_public_url_may_use_plain_http(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, PUBLIC_URL="http://192.168.1.20:5000")
    with app.app_context():
        public_url = app.config["PUBLIC_URL"]
        assert registration_problem("http://192.168.1.20:5000/run/callback",
                                    public_url) is None
        assert registration_problem("http://192.168.1.21:5000/run/callback",
                                    public_url)


def test_purge_deletes_only_what_expired(app):
    with DB.connection(app) as conn:
        client_id = conn.execute(text("SELECT client_id FROM clients")).scalar()
        grants.save_code(conn, "old", 1, client_id=client_id, user_id="alice",
                         redirect_uri="x", scopes=[], challenge=None, method=None)
        grants.save_code(conn, "new", 600, client_id=client_id, user_id="alice",
                         redirect_uri="x", scopes=[], challenge=None, method=None)
        grants.save_tokens(conn, None, client_id, None, [], "old-token", 1)
        grants.save_tokens(conn, None, client_id, None, [], "new-token", 3600)
        housekeeping.purge(conn, time.time() + 3600 + 10)
        assert grants.find_code(conn, "old") is None
        assert grants.find_code(conn, "new") is not None
        assert grants.find_token(conn, "old-token") is None
        assert grants.find_token(conn, "new-token") is not None


def test_codes_and_tokens_are_stored_hashed(live_server):
    sandbox = Sandbox(live_server.url, live_server.app.config)
    code = sandbox.code(sandbox.web)
    tokens = sandbox.redeem(code).json()
    with DB.connection(live_server.app) as conn:
        dump = "\n".join(str(tuple(row)) for table in SANDBOX_TABLES
                         for row in conn.execute(select(table)))
    assert sandbox.web.client_id in dump  # the dump holds the sandbox's rows
    for value in (code, tokens["access_token"], tokens["refresh_token"],
                  sandbox.web.client_secret):
        assert value not in dump


def test_no_secret_code_or_token_is_logged(serve, caplog):
    """oauthlib logs codes and tokens at DEBUG; the sandbox alone must quiet it."""
    logger = logging.getLogger("oauthlib")
    before = logger.level
    logger.setLevel(logging.NOTSET)  # as if no other part of the app had set it
    try:
        server = serve(SANDBOX_ONLY=True)
        caplog.set_level(logging.DEBUG)
        run_flow_and_check_logs(Sandbox(server.url, server.app.config), caplog)
    finally:
        logger.setLevel(before)


def run_flow_and_check_logs(sandbox, caplog) -> None:
    code = sandbox.code(sandbox.web)
    tokens = sandbox.redeem(code).json()
    sandbox.redeem(code)
    sandbox.token({"grant_type": "refresh_token",
                   "refresh_token": tokens["refresh_token"]}, sandbox.web_auth())
    for value in (code, tokens["access_token"], tokens["refresh_token"],
                  sandbox.web.client_secret):
        assert value not in caplog.text


@pytest.mark.sqlite_only
def test_database_files_are_private(serve, tmp_path):
    """Secrets' digests and runs are for this user only: 0600, WAL and SHM too."""
    server = serve()
    Sandbox(server.url, server.app.config).user_tokens()
    found = {path.name: path.stat().st_mode & 0o777
             for path in tmp_path.glob("*.sqlite3*")}
    assert {"sandbox.sqlite3", "sandbox.sqlite3-wal", "runs.sqlite3"} <= set(found)
    assert found == dict.fromkeys(found, 0o600)


def test_existing_world_readable_database_is_made_private(tmp_path):
    path = tmp_path / "old.sqlite3"
    with make_engine(f"sqlite:///{path}").connect():
        pass
    path.chmod(0o644)
    with make_engine(f"sqlite:///{path}").connect():
        pass
    assert path.stat().st_mode & 0o777 == 0o600
