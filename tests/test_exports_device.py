"""Exports of a device run (RFC 8628): faithful records, and a curl script and a
``.http`` file that run the grant again as a device would, later."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from flowlab.core.demo import device_app
from tests.flowrunner import FlowRunner
from tests.test_exports import FORMATS
from tests.test_exports import check_har
from tests.test_public_address import _assert_no_private_port
from tests.test_public_address import _assert_parses
from tests.test_sandbox_device import user_answers

FLOW = "device-authorization"


@pytest.fixture
def lab(serve):
    """A sandbox telling devices to poll every second; codes live a minute, so an
    unanswered script gives up within that time (its loop ends at expires_in)."""
    return serve(SANDBOX_DEVICE_INTERVAL=1, SANDBOX_DEVICE_TTL=60)


def _finished(lab) -> FlowRunner:
    runner = FlowRunner(lab).start(FLOW)
    page = runner.run_all()
    assert "That is the whole flow" in page.text
    return runner


def _export(runner: FlowRunner, fmt: str, secrets: str = "?secrets=1") -> str:
    answer = runner.session.get(f"{runner.run_url}/export.{fmt}{secrets}", timeout=10)
    assert answer.status_code == 200, (fmt, answer.text)
    return answer.text


def test_every_export_of_a_device_run_parses(lab, tmp_path):
    runner = _finished(lab)
    for fmt in FORMATS:
        for secrets in ("", "?secrets=1"):
            text = _export(runner, fmt, secrets)
            _assert_parses(fmt, text, tmp_path)
            _assert_no_private_port(text, lab)
    # The records are faithful: every poll the lab sent, with its answer.
    record = json.loads(_export(runner, "json"))
    polls = [e for step in record["steps"] for e in step["exchanges"]
             if "device_code=" in (e["request"].get("body") or "")]
    assert len(polls) >= 3  # pending, slow_down, ..., the tokens
    har = json.loads(_export(runner, "har"))
    assert check_har(har) == []
    token_posts = [e for e in har["log"]["entries"]
                   if e["request"]["url"].endswith("/api/token")]
    assert len(token_posts) == len(polls)
    markdown = _export(runner, "md")
    assert "authorization_pending" in markdown and "slow_down" in markdown


def _run_device_code(runner: FlowRunner) -> str:
    record = json.loads(_export(runner, "json"))
    answer = record["steps"][0]["exchanges"][0]["response"]["body"]
    return json.loads(answer)["device_code"]


def test_the_script_and_the_http_file_poll_with_a_fresh_device_code(lab):
    runner = _finished(lab)
    spent = _run_device_code(runner)
    script = _export(runner, "sh")
    assert spent not in script  # the run's device code is spent: never sent again
    assert script.count("\n  poll \\\n") == 1  # the lab's polls become one loop
    assert '--data-urlencode device_code="${DEVICE_CODE}"' in script
    assert "slow_down) INTERVAL=$((INTERVAL + 5))" in script
    assert device_app(lab.app.config).client_id in script
    http = _export(runner, "http")
    assert spent not in http
    assert http.count("\n# @name device\n") == 1
    assert "device_code={{device.response.body.$.device_code}}" in http
    token = re.search(r"# @name (step_\d+)\n(?:#.*\n)*POST \S+/api/token", http)
    assert token, http
    answer = "{{" + token.group(1) + ".response.body.$.access_token}}"
    bearer = f"Authorization: Bearer {answer}"
    assert bearer in http.split("/api/token")[-1]  # the API call after the polls


def _start_script(text: str, tmp_path) -> tuple[subprocess.Popen, dict, list[str]]:
    """Run the script until it shows the codes: what a TV shows its user."""
    script = tmp_path / "device.sh"
    script.write_text(text)
    process = subprocess.Popen(["bash", str(script)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    shown: list[str] = []
    while not shown or not shown[-1].startswith("and type this code: "):
        line = process.stdout.readline()
        assert line, "".join(shown) + process.stderr.read()
        shown.append(line)
    where = shown[shown.index("On a phone or a computer, open this address:\n") + 1]
    started = {"verification_uri": where.strip(),
               "user_code": shown[-1].split(": ", 1)[1].strip()}
    return process, started, shown


def test_the_script_gets_tokens_when_the_user_approves(lab, tmp_path):
    runner = _finished(lab)
    process, started, shown = _start_script(_export(runner, "sh"), tmp_path)
    assert started["verification_uri"] == lab("/sandbox/device")
    assert started["user_code"] not in runner.page.text  # a new one
    approved = user_answers(started)
    assert approved.status_code == 200 and "Device connected" in approved.text
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(shown) + out + err
    assert "or open this address, which carries the code:" in "".join(shown) + out
    me = out.rsplit("### ", 1)[1]
    assert me.startswith("Step 4: The TV reads your profile")
    assert "HTTP/1.1 200" in me and '"display_name"' in me
    assert '"access_token"' in out


def test_the_script_stops_when_the_user_declines(lab, tmp_path):
    runner = _finished(lab)
    process, started, _ = _start_script(_export(runner, "sh"), tmp_path)
    user_answers(started, decision="Cancel")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "The user declined on the verification page: no tokens." in err
    assert '"access_denied"' in out and "reads your profile" not in out


# --- The script's polling loop against a scripted token endpoint ------------------


class _Provider(BaseHTTPRequestHandler):
    """A device endpoint, a token endpoint answering from a script, and /v1/me."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"]))
                              .decode()))
        state = self.server.state
        if self.path.endswith("/api/device"):
            return self._answer(200, {
                "device_code": "fresh-device-code", "user_code": "WXYZ-BCDF",
                "verification_uri": "http://127.0.0.1/device", "interval": 1,
                "expires_in": state["expires_in"]})
        state["polls"].append(form)
        status, error = state["answers"].pop(0)
        body = {"error": error} if error else {"access_token": "new-token",
                                               "token_type": "Bearer"}
        return self._answer(status, body)

    def do_GET(self):  # noqa: N802
        self._answer(200, {"display_name": "Alice"})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def device_script(lab):
    """The script of a finished run, sent to a scripted provider, with ``sleep``
    replaced by a bash function that only says how long it would wait."""
    text = _export(_finished(lab), "sh")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.state = {"polls": [], "answers": [], "expires_in": 60}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "BASH_FUNC_sleep%%": '() { echo "slept $1" >&2; }'}

    def run(*answers, expires_in: int = 60) -> subprocess.CompletedProcess:
        server.state.update(polls=[], answers=list(answers), expires_in=expires_in)
        return subprocess.run(["bash", "-c", text.replace(lab("/sandbox"), base)],
                              capture_output=True, text=True, timeout=30, env=env)

    yield run, server.state
    server.shutdown()


def test_the_script_slows_down_by_five_seconds(device_script):
    run, state = device_script
    result = run((400, "slow_down"), (400, "authorization_pending"), (200, None))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.findall(r"slept (\d+)", result.stderr) == ["1", "6", "6"]  # §3.5
    assert [poll["device_code"] for poll in state["polls"]] == [
        "fresh-device-code"] * 3
    assert '"display_name": "Alice"' in result.stdout.rsplit("### ", 1)[1]


def test_the_script_stops_when_the_code_expires(device_script):
    run, state = device_script
    result = run((400, "authorization_pending"), (400, "expired_token"))
    assert result.returncode == 1 and len(state["polls"]) == 2
    assert "The device code expired before anyone approved" in result.stderr
    result = run(expires_in=0)  # the loop ends at expires_in without polling
    assert result.returncode == 1 and state["polls"] == []
    assert "The codes expired before anyone approved" in result.stderr
