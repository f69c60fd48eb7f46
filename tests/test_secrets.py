"""Secrets sealed for their browser: AES-GCM in the database, the key in a cookie."""

from __future__ import annotations

import base64
import os
import re
import sqlite3
from contextlib import closing

import pytest

from flowlab.core import secrets as secretbox
from flowlab.core.provider import Provider
from flowlab.core.runner import store
from flowlab.core.secrets import SecretBox
from tests import standin
from tests.flowrunner import FlowRunner

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "sealed-secret-0123456789abcdef"



@pytest.fixture
def lab(serve, fake):
    return serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)


def rows(tmp_path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(tmp_path / "runs.sqlite3")) as conn:
        return conn.execute(sql).fetchall()


def key_of(runner: FlowRunner) -> bytes:
    value = runner.session.cookies["flowlab_key"]
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_a_sealed_value_opens_only_with_its_key_row_and_browser(app):
    key, salt = os.urandom(32), app.config["SECRET_KEY"]
    sealed = secretbox.seal(key, {"access_token": "tok"}, "run r1 b1", salt)
    assert secretbox.unseal(key, sealed, "run r1 b1", salt) == {"access_token": "tok"}
    assert b"tok" not in sealed
    assert secretbox.unseal(os.urandom(32), sealed, "run r1 b1", salt) is None
    assert secretbox.unseal(key, sealed, "run r2 b1", salt) is None  # another row
    assert secretbox.unseal(key, sealed, "run r1 b2", salt) is None  # another browser
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert secretbox.unseal(key, flipped, "run r1 b1", salt) is None
    assert (secretbox.seal(key, "x", "a", salt)[:12]
            != secretbox.seal(key, "x", "a", salt)[:12])
    # the server's own key is part of it too
    assert secretbox.unseal(key, sealed, "run r1 b1", "another-server-key") is None


def test_a_run_saved_outside_a_request_keeps_its_secrets_or_says_why(app):
    """A real provider's run saved with no request about (a worker, the CLI): given
    its browser's box, its secrets are sealed and load again; without one, the save
    fails loudly and the database is unchanged (never a silent drop)."""
    spotify = Provider(kind="spotify", name="Spotify")
    key, salt = os.urandom(32), app.config["SECRET_KEY"]
    with app.app_context():
        run = store.create("b1", "authorization-code", spotify)
        run.secrets = {"state": "s1", "code_verifier": "v1"}
        assert store.save(run, SecretBox("b1", key, salt))
        again = store.load(run.id, "b1", SecretBox("b1", key, salt))
        assert again.secrets == {"state": "s1", "code_verifier": "v1"}
        assert store.load(run.id, "b1", SecretBox("b1", os.urandom(32), salt)
                          ).secrets == {}  # another key opens nothing
        again.secrets["token"] = {"access_token": "t1"}
        with pytest.raises(store.SecretsRefused):
            store.save(again)
        kept = store.load(run.id, "b1", SecretBox("b1", key, salt))
        assert kept.secrets == {"state": "s1", "code_verifier": "v1"}
        assert kept.version == run.version


def _choose_spotify(client, base_url: str):
    page = client.get("/provider", base_url=base_url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/provider", base_url=base_url, data={
        "csrf_token": token, "kind": "spotify", "client_id": CLIENT_ID,
        "client_secret": SECRET})


@pytest.mark.parametrize(("config", "base_url", "name", "secure"), [
    ({}, "http://127.0.0.1", "flowlab_key", False),
    ({"PUBLIC_URL": "https://lab.example"}, "https://lab.example",
     "__Host-flowlab_key", True),
])
def test_the_key_cookie(tmp_path, config, base_url, name, secure):
    from tests.conftest import make_app

    client = make_app(tmp_path, **config).test_client()
    answer = _choose_spotify(client, base_url)
    assert answer.status_code == 303
    (cookie,) = [c for c in answer.headers.getlist("Set-Cookie")
                 if c.startswith(name + "=")]
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    assert ("secure" in attributes) is secure
    assert not {"expires", "max-age", "domain"} & attributes  # gone with the browser
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(base64.urlsafe_b64decode(value + "=")) == 32


def test_the_database_holds_only_ciphertext(lab, fake, tmp_path):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("authorization-code").run_all()
    api = [s for s in fake.app.seen if s["path"] == "/v1/me"]
    assert api[-1]["headers"]["Authorization"] == f"Bearer {standin.ACCESS}"
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite3*"))
    for secret in (SECRET, basic, standin.ACCESS, standin.REFRESH, standin.CODE):
        assert secret.encode() not in stored
    # What is there instead: ciphertext that the browser's key opens, and only it.
    key = key_of(runner)
    ((browser, sealed_secret),) = rows(tmp_path, "SELECT browser, secret FROM choices")
    ((run, owner, sealed_run),) = rows(tmp_path,
                                       "SELECT run, browser, sealed FROM run_secrets")
    assert owner == browser
    SALT = lab.app.config["SECRET_KEY"]  # noqa: N806
    with lab.app.test_request_context():
        assert secretbox.unseal(key, sealed_secret, f"choice {browser}", SALT) == SECRET
        opened = secretbox.unseal(key, sealed_run, f"run {run} {browser}", SALT)
        assert opened["token"]["access_token"] == standin.ACCESS
        assert secretbox.unseal(os.urandom(32), sealed_run, f"run {run} {browser}",
                                SALT) is None


def test_forget_deletes_the_choice_and_the_run_secrets(lab, tmp_path):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("client-credentials").run_all()
    assert len(rows(tmp_path, "SELECT * FROM choices")) == 1
    assert len(rows(tmp_path, "SELECT * FROM run_secrets")) == 1
    page = runner.get(lab("/provider"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    runner.session.post(lab("/provider/forget"), data={"csrf_token": token})
    assert rows(tmp_path, "SELECT * FROM choices") == []
    assert rows(tmp_path, "SELECT * FROM run_secrets") == []
