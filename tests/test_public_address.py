"""Screens and exports name the address people can use, not the private back channel.

The runner reaches the sandbox on a private loopback port picked at random at each
start (``flowlab.serving``); that port is dead for anyone else and after a restart.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.provider import Provider
from flowlab.core.publicurl import Addresses
from flowlab.core.publicurl import private_origins
from flowlab.core.publicurl import sent_privately
from tests.flowrunner import FlowRunner
from tests.sandbox_helpers import Sandbox
from tests.test_exports import FORMATS
from tests.test_exports import _bash_syntax
from tests.test_exports import check_har
from tests.test_exports import check_http_file
from tests.test_exports import run_script

PRIVATE = "http://127.0.0.1:5432"
PUBLIC = "http://192.168.1.20:5000"


# --- The rewriting, as plain functions ----------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    (PRIVATE + "/sandbox/api/token", PUBLIC + "/sandbox/api/token"),
    ("Host: 127.0.0.1:5432", "Host: 192.168.1.20:5000"),
    ("u=http%3A%2F%2F127.0.0.1%3A5432%2Fx", "u=http%3A%2F%2F192.168.1.20%3A5000%2Fx"),
    # Another port that starts with the same digits is not the private one.
    ("http://127.0.0.1:54321/x and 127.0.0.1:54321", None),
    ("http://127.0.0.1:5000/run/callback", None),
])
def test_private_origin_gives_way_to_the_public_one(text, expected):
    assert Addresses(PUBLIC, (PRIVATE,))(text) == (expected or text)


def test_a_rewritten_body_keeps_its_content_length():
    body = json.dumps({"href": PRIVATE + "/sandbox/v1/users/alice"})
    response = Message("HTTP/1.1 200 OK", [("Content-Length", str(len(body)))], body)
    exchange = Exchange(Message("GET /sandbox/v1/me HTTP/1.1",
                                [("Host", "127.0.0.1:5432")]), response,
                        url=PRIVATE + "/sandbox/v1/me").to_dict()
    where = Addresses(PUBLIC, (PRIVATE,))
    out = Exchange.from_dict(where._exchange(exchange))
    assert out.url == PUBLIC + "/sandbox/v1/me"
    assert out.request.header("Host") == "192.168.1.20:5000"
    assert out.response.header("Content-Length") == str(len(out.response.body))
    assert where.sent_privately(exchange) and not where.sent_privately(out)


def test_private_origins_come_from_the_run_and_from_today():
    provider = Provider(kind="sandbox", authorize_url="http://127.0.0.1:5000/sandbox/a",
                        token_url=PRIVATE + "/sandbox/api/token",
                        api_base=PRIVATE + "/sandbox")
    assert private_origins(provider, "http://127.0.0.1:6001") == (
        PRIVATE, "http://127.0.0.1:6001")
    # A standalone sandbox, or any other provider, has no private listener.
    assert private_origins(replace(provider, kind="discovered")) == ()
    same = replace(provider, token_url="http://127.0.0.1:5000/sandbox/api/token",
                   api_base="http://127.0.0.1:5000/sandbox")
    assert private_origins(same) == ()


# --- Live: a real run on the served sandbox -----------------------------------------


def _private(server) -> str:
    return urlsplit(server.app.config["SANDBOX_BACKCHANNEL_URL"]).netloc


def _assert_no_private_port(text: str, server) -> None:
    netloc = _private(server)
    port = netloc.rpartition(":")[2]
    assert netloc not in text
    assert f"127.0.0.1%3A{port}" not in text


def test_step_helper_says_which_messages_went_to_the_private_port(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    document = runner.session.get(runner.run_url + "/export.json?secrets=1",
                                  timeout=10).json()
    assert _private(live_server) not in json.dumps(document)
    from flowlab.core.runner import store

    app = live_server.app
    run_id = runner.run_url.rsplit("/", 1)[1]
    with app.test_request_context("/", base_url=live_server.url):
        run = store.load(run_id, store_owner(app, run_id))
        exchange = run.steps[0].exchanges[0]
        assert _private(live_server) in exchange["url"]  # the bytes stay true
        assert sent_privately(run, exchange) == live_server.url
        callback = {"url": live_server.url + "/run/callback"}
        assert sent_privately(run, callback) is None


def store_owner(app, run_id: str) -> str:
    """The browser id a run belongs to, read straight from the runs database."""
    import sqlite3

    with sqlite3.connect(app.config["RUNS_DATABASE"]) as conn:
        return conn.execute("SELECT owner FROM runs WHERE id = ?",
                            (run_id,)).fetchone()[0]


@pytest.mark.parametrize("flow_id", ["client-credentials", "authorization-code",
                                     "authorization-code-pkce", "implicit"])
def test_exports_name_only_the_public_address(live_server, tmp_path, flow_id):
    runner = FlowRunner(live_server).start(flow_id)
    runner.run_all()
    for fmt in FORMATS:
        for secrets in ("", "?secrets=1"):
            answer = runner.session.get(f"{runner.run_url}/export.{fmt}{secrets}",
                                        timeout=10)
            assert answer.status_code == 200, (fmt, answer.text)
            _assert_no_private_port(answer.text, live_server)
            _assert_parses(fmt, answer.text, tmp_path)
    sh = runner.session.get(runner.run_url + "/export.sh", timeout=10).text
    if flow_id != "implicit":
        assert live_server.url + "/sandbox/api/token" in sh
        flat = " ".join(line.lstrip("# ") for line in sh.splitlines())
        assert "private listener on its loopback interface" in flat  # said once
        assert flat.count("private listener") == 1
    har = json.loads(runner.session.get(runner.run_url + "/export.har",
                                        timeout=10).text)
    if flow_id != "implicit":
        assert live_server.url in har["log"]["comment"]
        assert "the rest is as captured" in har["log"]["comment"].lower()


def _assert_parses(fmt: str, text: str, tmp_path) -> None:
    if fmt == "sh":
        checked = _bash_syntax(text, tmp_path)
        assert checked.returncode == 0, checked.stderr
    elif fmt == "http":
        assert check_http_file(text) == []
    elif fmt == "har":
        assert check_har(json.loads(text)) == []
    elif fmt == "json":
        json.loads(text)
    else:
        assert text.startswith("# ")


def test_exports_name_the_configured_public_url(serve):
    server = serve(PUBLIC_URL="http://lab.example:8080")
    runner = FlowRunner(server).start("client-credentials")
    runner.run_all()
    text = runner.session.get(runner.run_url + "/export.sh", timeout=10).text
    assert "http://lab.example:8080/sandbox/api/token" in text
    _assert_no_private_port(text, server)


def test_provider_page_shows_the_public_addresses(live_server):
    runner = FlowRunner(live_server)
    page = runner.get(live_server("/provider")).text
    _assert_no_private_port(page, live_server)
    assert f"<code>{live_server.url}/sandbox/api/token</code>" in page
    assert f'<code id="spotify-redirect">{live_server.url}/run/callback</code>' in page
    assert "private port" in page


# --- Live: the code-flow scripts, run later -----------------------------------------


@pytest.mark.parametrize("flow_id", ["authorization-code", "authorization-code-pkce"])
def test_code_flow_script_gets_tokens_later(live_server, tmp_path, flow_id):
    runner = FlowRunner(live_server).start(flow_id)
    runner.run_all()
    text = runner.session.get(runner.run_url + "/export.sh?secrets=1", timeout=10).text
    sandbox = Sandbox(live_server.url, live_server.app.config)

    def browser(url: str) -> str:
        # A new browser opens the printed URL, logs in and agrees (HTML forms).
        params = parse_qsl(urlsplit(url).query)
        answer = sandbox.authorize(params)
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["Location"]

    result, url = run_script(text, tmp_path, browser)
    assert result.returncode == 0, result.stdout + result.stderr
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["state"] not in runner.page.text
    if flow_id.endswith("pkce"):
        assert query["code_challenge_method"] == "S256"
    token_answer = result.stdout.split("### Step 4")[1]
    assert "HTTP/1.1 200" in token_answer.split("\n")[1]
    assert '"access_token"' in token_answer
    me = result.stdout.split("### Step 5")[1]
    assert "HTTP/1.1 200" in me.split("\n")[1] and '"display_name"' in me
    _assert_no_private_port(text, live_server)


def test_code_flow_script_is_valid_bash_when_masked(live_server, tmp_path):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.run_all()
    text = runner.session.get(runner.run_url + "/export.sh", timeout=10).text
    assert _bash_syntax(text, tmp_path).returncode == 0
    result = subprocess.run(["bash", "-c", text], capture_output=True, text=True,
                            timeout=20, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and "Fill in CLIENT_SECRET" in result.stderr


def test_kept_step_parts_name_the_address_each_view_asked_for(live_server):
    """A step's annotated parts are kept between views of an unchanged run; the
    public address they name for the back channel is the one each view passes."""
    from flowlab.core.redact import Redactor
    from flowlab.core.runner import present
    from flowlab.core.runner import store

    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    run_id = runner.run_url.rsplit("/", 1)[1]
    private = (f"http://{_private(live_server)}",)
    with live_server.app.test_request_context("/", base_url=live_server.url):
        run = store.load(run_id, store_owner(live_server.app, run_id))
        named = []
        for public in (live_server.url, PUBLIC, live_server.url):
            parts = present.kept_step_parts(
                run, 0, {}, Redactor.for_run(run, {""}, False),
                where=Addresses(public, private))
            named.append(parts["views"][0].backchannel[1])
    assert named == [live_server.url, PUBLIC, live_server.url]
