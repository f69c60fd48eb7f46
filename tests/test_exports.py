"""Transcript exports: each format from a realistic run, redaction, and the downloads.

The run is built by hand from messages shaped like the ones the runner captures (an
authorization code flow on the sandbox: callback, token, API calls, expiry, refresh),
so the exporters are tested as plain functions without a provider.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import quote
from urllib.parse import quote_plus
from urllib.parse import urlencode

import pytest

from flowlab.core import exports
from flowlab.core.demo import demo_apps
from flowlab.core.exports.escape import md_code
from flowlab.core.exports.escape import md_fence
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.provider import Provider
from flowlab.core.redact import Redactor
from flowlab.core.runner import store
from flowlab.core.runner.records import StepRecord
from flowlab.core.runner.store import Run
from flowlab.core.secrets import SecretBox

CLIENT_ID = "17d37e5af2fd45730e05141eb4bdac55"
CLIENT_SECRET = "833bb97c1004dcbf590d8ccabb205e26"
CODE = "Yq3vJ2kPz9Lm4Xw8Rt6Ns1Bc0Hd"
STATE = "st8Hk2Lq9Zx4Vb7Nm3Pw6Rt1Qa"
ACCESS_1 = "AT1-aQ3xZ9kLm2Np8Rs4Tv6Wy0Bc5Dg7Fh"
ACCESS_2 = "AT2-bR4yA0lMn3Oq9St5Uw7Xz1Cd6Eh8Gi"
# Refresh tokens with characters that form encoding changes (+ / =).
REFRESH_1 = "rt1+Qm9/Kx3Lp8Vb2Nw=="
REFRESH_2 = "rt2+Zc4/Hj7Ty1Ue5Io=="
SESSION = "eyJicm93c2VyIjoiYWJjZGVmIn0.Z1x2Yw.c2lnbmF0dXJlLXZhbHVl"
FORMATS = sorted(exports.EXPORTERS)


# --- A realistic run, built by hand -------------------------------------------------


def _provider(base: str, kind: str = "sandbox", client_id: str = CLIENT_ID) -> Provider:
    """A profile as an older version stored it (a dict), read the one way."""
    return Provider.from_json({
            "kind": kind, "name": "Sandbox provider", "issuer": base + "/sandbox",
            "iss_supported": True, "authorize_url": base + "/sandbox/authorize",
            "token_url": base + "/sandbox/api/token", "api_base": base + "/sandbox/v1",
            "expire_url": base + "/sandbox/demo/expire-token",
            "clients": {"confidential": client_id, "public": "3334f0a3ec9858ab"}})


def _exchange(method, url, headers, body="", status=None, answer=(), reply="",
              at=1795811951.3) -> dict:
    """A captured exchange: the request as sent, the response as urllib3 read it."""
    host, _, path = url.split("://", 1)[1].partition("/")
    sent = [("Host", host), ("User-Agent", "python-requests/2.34.2"),
            ("Accept-Encoding", "gzip, deflate"), ("Connection", "keep-alive"),
            *headers]
    if body:
        sent.append(("Content-Length", str(len(body))))
    request = Message(f"{method} /{path} HTTP/1.1", sent, body)
    response = None
    if status:
        response = Message(f"HTTP/1.1 {status}", [
            ("Content-Type", "application/json"), ("Date", "Fri, 27 Nov 2026 20:39:11 "
             "GMT"), ("Server", "waitress"), *answer], reply)
    return Exchange(request, response, url=url, started=at, elapsed_ms=6.6).to_dict()


def _token_post(base, form, client_id, client_secret, reply, at) -> dict:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return _exchange("POST", base + "/sandbox/api/token", [
        ("Accept", "application/json"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Authorization", "Basic " + basic)], urlencode(form), "200 OK",
        [("Cache-Control", "no-store"), ("Pragma", "no-cache")], json.dumps(reply),
        at)


def _api(base, path, token, status, reply, at, method="GET") -> dict:
    answer = ([("WWW-Authenticate", 'Bearer error="invalid_token"')]
              if status.startswith("401") else [])
    return _exchange(method, base + "/sandbox" + path,
                     [("Authorization", "Bearer " + token)], "", status, answer,
                     json.dumps(reply), at)


def _tokens(access, refresh) -> dict:
    return {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": refresh, "scope": "user-read-private user-read-email"}


def _step(step_id, exchanges=(), data=None, error=None,
          at=1795811951.0) -> StepRecord:
    return StepRecord(id=step_id, status="done", exchanges=tuple(exchanges),
                      data=data or {}, error=error, at=at)


def make_run(base="http://127.0.0.1:5000", kind="sandbox", client_id=CLIENT_ID,
             client_secret=CLIENT_SECRET, owner="owner") -> Run:
    """Eight steps of the authorization code flow, as the runner records them."""
    callback = base + "/run/callback"
    query = urlencode({"client_id": client_id, "response_type": "code",
                       "redirect_uri": callback, "scope": "user-read-private",
                       "state": STATE})
    authorize = base + "/sandbox/authorize?" + query
    back = f"{callback}?code={CODE}&state={STATE}&iss={quote(base + '/sandbox', '')}"
    browser = Message(f"GET {back.split(base, 1)[1]} HTTP/1.1", [
        ("Host", base.split("//")[1]), ("User-Agent", "Mozilla/5.0 Chrome/131.0"),
        ("Accept", "text/html"), ("Cookie", f"session={SESSION}")])
    code_form = {"grant_type": "authorization_code", "code": CODE,
                 "redirect_uri": callback}
    refresh_form = {"grant_type": "refresh_token", "refresh_token": REFRESH_1}
    me = {"id": "ada", "display_name": "Ada Lovelace", "country": "GB"}
    expired = {"error": {"status": 401, "message": "The access token expired"}}
    steps = [
        _step("authorization-url", data={"url": authorize}),
        _step("consent", data={"user_returned": True}),
        _step("callback", [Exchange(browser, url=back, started=1795811952.0).to_dict()],
              {"params": sorted({"code": CODE, "state": STATE}.items())}),
        _step("token", [_token_post(base, code_form, client_id, client_secret,
                                    _tokens(ACCESS_1, REFRESH_1), 1795811953.0)]),
        _step("call-api", [_api(base, "/v1/me", ACCESS_1, "200 OK", me, 1795811954.0)]),
        _step("expire", [_api(base, "/demo/expire-token", ACCESS_1, "200 OK",
                              {"expired": True}, 1795811955.0, "POST")]),
        _step("call-api-expired", [_api(base, "/v1/me", ACCESS_1, "401 UNAUTHORIZED",
                                        expired, 1795811956.0)]),
        _step("refresh", [_token_post(base, refresh_form, client_id, client_secret,
                                      _tokens(ACCESS_2, REFRESH_2), 1795811957.0)]),
    ]
    secrets = {"authorize_url": authorize, "redirect_uri": callback, "code": CODE,
               "token": _tokens(ACCESS_2, REFRESH_2),
               "refresh_tokens": [REFRESH_1, REFRESH_2]}
    return Run("Rk2vX9aQ1bC3", owner, "authorization-code", _provider(base, kind,
               client_id), secrets, steps, "active", 3, 1795811950.0)


def export(app, fmt, run=None, reveal=False, secret=CLIENT_SECRET) -> str:
    """One export of ``run`` as the view makes it."""
    run = run or make_run()
    flow = app.extensions["flowlab"].runner.flows[run.flow]
    redact = Redactor.for_run(run, {secret}, reveal)
    content = app.extensions["flowlab"].content
    extra = {"glossary": content.data("glossary")} if fmt == "md" else {}
    return exports.EXPORTERS[fmt](run, flow, redact, **extra)


def secret_forms() -> list[str]:
    """Every secret and token of the run, raw, url-encoded and inside Basic."""
    found = []
    for value in (CLIENT_SECRET, CODE, ACCESS_1, ACCESS_2, REFRESH_1, REFRESH_2,
                  SESSION):
        found += [value, quote(value, safe=""), quote_plus(value),
                  json.dumps(value)[1:-1]]
    found.append(base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode())
    return found


# --- Redaction ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_appears_in_a_redacted_export(app, fmt):
    text = export(app, fmt)
    leaked = [form for form in secret_forms() if form in text]
    assert leaked == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_are_included_on_request_for_the_sandbox(app, fmt):
    # The other side of the test above: the run does carry these secrets. The
    # transcripts hold every message; the scripts that run the flow again hold only
    # the client secret, and never the run's spent code and tokens.
    text = export(app, fmt, reveal=True)
    spent = [ACCESS_1, REFRESH_1, CODE]
    if fmt in ("sh", "http"):
        assert CLIENT_SECRET in text
        assert [value for value in spent if value in text] == []
    else:
        expected = [*spent, ACCESS_2, REFRESH_2, SESSION]
        assert [value for value in expected if value not in text] == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["spotify", "discovered"])
def test_other_providers_stay_masked_even_when_asked(app, fmt, kind):
    text = export(app, fmt, run=make_run(kind=kind), reveal=True)
    assert [form for form in secret_forms() if form in text] == []


# --- Markdown -----------------------------------------------------------------------


def test_markdown_handout_has_steps_messages_and_annotations(app):
    text = export(app, "md")
    glossary = app.extensions["flowlab"].content.data("glossary")
    assert text.startswith("# Authorization code")
    assert "## Step 4: Exchange the code for tokens" in text
    assert "```http\nPOST /sandbox/api/token HTTP/1.1\n" in text
    assert "| Where | Name | Value | Meaning |" in text
    assert glossary["grant_type"]["meaning"] in text
    assert "| form | `grant_type` | `authorization_code` |" in text
    assert "## Step 9: Refresh" not in text and "*Not run.*" in text
    assert "### The authorization URL" in text
    # The browser carries the URL and the redirect URI in the clear: not masked.
    assert "/sandbox/authorize?client_id=" in text and "response_type=code" in text
    assert "No response recorded" in text  # the browser's callback request


def test_markdown_shows_a_failure_as_text(app):
    run = make_run()
    run.steps[3] = replace(run.steps[3], status="failed",
                           error="invalid_client: <script>alert(1)</script>")
    text = export(app, "md", run=run)
    assert "**Failed:** `invalid_client: <script>alert(1)</script>`" in text


def test_markdown_code_spans_survive_backticks_and_pipes():
    assert md_code("a|b", table=True) == "`a\\|b`"
    assert md_code("a|b") == "`a|b`"
    assert md_code("x`y") == "``x`y``"
    assert md_fence("```\n", "http").startswith("````http")


# --- curl script --------------------------------------------------------------------


def _bash_syntax(text: str, tmp_path) -> subprocess.CompletedProcess:
    script = tmp_path / "replay.sh"
    script.write_text(text)
    return subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)


@pytest.mark.parametrize("reveal", [False, True])
def test_curl_script_is_valid_bash(app, tmp_path, reveal):
    text = export(app, "sh", reveal=reveal)
    checked = _bash_syntax(text, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text


def test_curl_script_runs_the_flow_again(app):
    text = export(app, "sh")
    # token, me, expire, me (expired), refresh; not the browser's callback
    assert text.count("\n  call ") == 5
    assert "run/callback?code" not in text
    assert "STATE=$(random)" in text and "read -r CALLBACK_URL" in text
    assert '[ "$(param state "$CALLBACK_URL")" != "$STATE" ]' in text
    assert "&state='\"${STATE}\"" in text and STATE not in text
    assert "--data-urlencode grant_type=authorization_code" in text
    assert '--data-urlencode code="${CODE}"' in text
    assert "--data-urlencode redirect_uri=http://127.0.0.1:5000/run/callback" in text
    assert '--data-urlencode refresh_token="${REFRESH_TOKEN}"' in text
    assert '--user "${CLIENT_ID}:${CLIENT_SECRET}"' in text
    assert "--header 'Authorization: Bearer '\"${ACCESS_TOKEN}\"" in text
    assert "--header 'Accept: application/json'" in text
    assert "call 401 \\\n" in text  # the expired token's step expects what the run got
    for dropped in ("Host", "Content-Length", "Connection", "Accept-Encoding",
                    "User-Agent"):
        assert f"--header '{dropped}:" not in text
    assert f"\nCLIENT_ID=${{CLIENT_ID:-{CLIENT_ID}}}\n" in text
    assert ("\nCLIENT_SECRET=${CLIENT_SECRET:-}  # masked in this export (833b…5e26): "
            "fill in\n") in text


def test_masked_curl_script_asks_for_the_values(app, tmp_path):
    script = tmp_path / "replay.sh"
    script.write_text(export(app, "sh"))
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                            timeout=20, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "Fill in CLIENT_SECRET at the top of this script" in result.stderr
    assert result.stdout == ""  # it asks before sending the user to the browser


class Recorder(BaseHTTPRequestHandler):
    """Answers with the next queued status and a fresh token; keeps what it got."""

    seen: list = []
    statuses: list = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.seen.append((self.command, self.path, dict(self.headers), body))
        answer = json.dumps({"access_token": f"fresh-{len(self.seen)}",
                             "refresh_token": f"fresh-rt-{len(self.seen)}"}).encode()
        self.send_response(self.statuses.pop(0))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder
    server.shutdown()
    server.server_close()


def run_script(text: str, tmp_path, callback) -> tuple[subprocess.CompletedProcess,
                                                         str]:
    """Run a curl script: read the authorization URL it prints, answer with the
    callback URL that ``callback(url)`` returns."""
    script = tmp_path / "flow.sh"
    script.write_text(text)
    process = subprocess.Popen(["bash", str(script)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    shown = []
    while True:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        shown.append(line)
        if "/authorize?" in line:
            break
    out, err = process.communicate(callback(line.strip()) + "\n", timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode,
                                       "".join(shown) + out, err), line.strip()


def test_curl_script_sends_fresh_values_never_the_runs(app, tmp_path, recorder):
    base, server = recorder
    server.statuses = [200, 200, 200, 401, 200]
    run = make_run(base=base)
    text = export(app, "sh", run=run, reveal=True)

    def callback(url):
        state = dict(parse_qsl(url.partition("?")[2]))["state"]
        return f"{base}/run/callback?code=new-code&state={state}"

    result, url = run_script(text, tmp_path, callback)
    assert result.returncode == 0, result.stderr
    assert dict(parse_qsl(url.partition("?")[2]))["state"] != STATE
    captured = [Exchange.from_dict(e).request for record in run.steps[3:]
                for e in record.exchanges]
    assert len(server.seen) == len(captured) == 5
    for (method, path, headers, _), sent in zip(server.seen, captured, strict=True):
        assert f"{method} {path} HTTP/1.1" == sent.start_line
        if sent.header("Authorization").startswith("Basic"):
            assert headers.get("Authorization") == sent.header("Authorization")
    token, me, expire, expired, refresh = server.seen
    assert dict(parse_qsl(token[3]))["code"] == "new-code"
    assert me[2]["Authorization"] == expire[2]["Authorization"] == "Bearer fresh-1"
    assert dict(parse_qsl(refresh[3]))["refresh_token"] == "fresh-rt-1"
    for spent in (CODE, ACCESS_1, REFRESH_1):
        assert spent not in json.dumps(server.seen)


def test_curl_script_stops_on_a_wrong_state(app, tmp_path, recorder):
    base, server = recorder
    text = export(app, "sh", run=make_run(base=base), reveal=True)
    result, _ = run_script(text, tmp_path, lambda url: f"{base}/run/callback?code=c"
                           f"&state={STATE}")
    assert result.returncode == 1
    assert "state does not match" in result.stderr
    assert server.seen == []


def test_curl_script_with_a_masked_basic_header(app, tmp_path):
    run = make_run()
    for record in run.steps:
        for exchange in record.exchanges:
            exchange["request"]["headers"] = [
                (k, "Basic 17d3…ac55" if v.startswith("Basic ") else v)
                for k, v in exchange["request"]["headers"]]
    for fmt in FORMATS:
        export(app, fmt, run=run)  # no ValueError from the Base64 decoder
    text = export(app, "sh", run=run)
    assert f"CLIENT_ID=${{CLIENT_ID:-{CLIENT_ID}}}" in text
    assert _bash_syntax(text, tmp_path).returncode == 0


# --- .http file ---------------------------------------------------------------------


def test_http_file_lists_requests_with_variables(app):
    text = export(app, "http")
    assert text.count("\n### Step ") == 5
    assert "\nPOST http://127.0.0.1:5000/sandbox/api/token HTTP/1.1\n" in text
    assert "\nAuthorization: Basic {{client_id}} {{client_secret}}\n" in text
    assert "\nAuthorization: Bearer {{step_4.response.body.$.access_token}}\n" in text
    assert "grant_type=authorization_code&code={{code}}&redirect_uri=" in text
    assert "refresh_token={{step_4.response.body.$.refresh_token}}" in text
    assert "\n@client_secret =\n" in text and "\n@code =\n" in text
    assert "Host:" not in text and "Content-Length:" not in text
    assert check_http_file(text) == []


def test_http_file_holds_the_client_secret_and_nothing_spent(app):
    text = export(app, "http", reveal=True)
    assert f"\n@client_secret = {CLIENT_SECRET}\n" in text
    state = re.search(r"\n@state = (\S+)\n", text).group(1)
    assert state != STATE and f"&state={state}" in text
    assert [v for v in (CODE, ACCESS_1, REFRESH_1, STATE) if v in text] == []


REQUEST_LINE = re.compile(r"(GET|POST|PUT|PATCH|DELETE) (https?://\S+) HTTP/1\.1")


def check_http_file(text: str) -> list[str]:
    """Structural problems of a ``.http`` file: each ``###`` block holds a request
    line, then headers, then an optional body; every ``{{variable}}`` is defined."""
    problems = []
    defined = set(re.findall(r"^@(\w+) =", text, re.M))
    named = set(re.findall(r"^# @name (\w+)$", text, re.M))
    for block in text.split("\n### ")[1:]:
        lines = [line for line in block.split("\n")[1:] if not line.startswith("#")]
        if not lines or not REQUEST_LINE.fullmatch(lines[0]):
            problems.append(f"no request line in {block[:40]!r}")
            continue
        head = lines[1:lines.index("")] if "" in lines else lines[1:]
        problems += [f"bad header {h!r}" for h in head
                     if not re.fullmatch(r"[\w-]+: \S.*", h)]
    requests = "\n".join(line for line in text.split("\n")
                         if not line.startswith("#"))
    for ref in re.findall(r"\{\{([^}]+)\}\}", requests):
        if ref.split(".")[0] not in defined | named:
            problems.append(f"undefined {ref}")
    return problems


# --- JSON ---------------------------------------------------------------------------


def test_json_round_trips_through_the_exchange_serializer(app):
    run = make_run()
    document = json.loads(export(app, "json", run=run, reveal=True))
    assert document["flow"]["id"] == "authorization-code"
    assert document["secrets"] == "included"
    assert [s["id"] for s in document["steps"]] == [s.id for s in run.steps]
    for exported, record in zip(document["steps"], run.steps, strict=True):
        again = [Exchange.from_dict(e) for e in exported["exchanges"]]
        assert again == [Exchange.from_dict(e) for e in record.exchanges]
        as_json = json.loads(json.dumps([e.to_dict() for e in again]))
        assert as_json == exported["exchanges"]


def test_json_keeps_the_provider_without_secrets(app):
    run = make_run()
    run.provider = replace(run.provider, extra={"client_secret": CLIENT_SECRET})
    document = json.loads(export(app, "json", run=run, reveal=True))
    assert "client_secret" not in document["provider"]
    assert document["provider"]["token_url"].endswith("/sandbox/api/token")
    masked = json.loads(export(app, "json", run=run))
    callback = masked["steps"][2]["exchanges"][0]
    assert callback["response"] is None
    assert Exchange.from_dict(callback).request.start_line.startswith("GET /run/")


# --- HAR 1.2 ------------------------------------------------------------------------


def _is_date(value) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_pairs(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, dict) and isinstance(p.get("name"), str)
        and isinstance(p.get("value"), str) for p in value)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_keys(where: str, data, spec: dict) -> list[str]:
    """Problems with ``data`` against ``{key: check}``: missing keys and bad types."""
    if not isinstance(data, dict):
        return [f"{where} is not an object"]
    problems = []
    for key, check in spec.items():
        if key not in data:
            problems.append(f"{where}.{key} is missing")
        elif not check(data[key]):
            problems.append(f"{where}.{key} is not valid: {data[key]!r}")
    return problems


def _text(value) -> bool:
    return isinstance(value, str)


REQUEST = {"method": _text, "url": _text, "httpVersion": _text, "cookies": _is_pairs,
           "headers": _is_pairs, "queryString": _is_pairs, "headersSize": _is_number,
           "bodySize": _is_number}
RESPONSE = {"status": lambda v: isinstance(v, int), "statusText": _text,
            "httpVersion": _text, "cookies": _is_pairs, "headers": _is_pairs,
            "content": lambda v: isinstance(v, dict), "redirectURL": _text,
            "headersSize": _is_number, "bodySize": _is_number}
ENTRY = {"startedDateTime": _is_date, "time": _is_number,
         "request": lambda v: isinstance(v, dict),
         "response": lambda v: isinstance(v, dict), "cache": lambda v: v == {} or
         isinstance(v, dict), "timings": lambda v: isinstance(v, dict)}


def check_har(document) -> list[str]:
    """Structural problems with a HAR 1.2 document (required keys and their types)."""
    problems = check_keys("root", document, {"log": lambda v: isinstance(v, dict)})
    if problems:
        return problems
    log = document["log"]
    problems += check_keys("log", log, {
        "version": lambda v: v == "1.2", "creator": lambda v: isinstance(v, dict),
        "entries": lambda v: isinstance(v, list)})
    problems += check_keys("log.creator", log.get("creator"),
                           {"name": _text, "version": _text})
    page_ids = set()
    for i, page in enumerate(log.get("pages", [])):
        page_ids.add(page.get("id"))
        problems += check_keys(f"pages[{i}]", page, {
            "startedDateTime": _is_date, "id": _text, "title": _text,
            "pageTimings": lambda v: isinstance(v, dict)})
    for i, entry in enumerate(log.get("entries", [])):
        problems += _check_entry(f"entries[{i}]", entry, page_ids)
    return problems


def _check_entry(where: str, entry, page_ids: set) -> list[str]:
    problems = check_keys(where, entry, ENTRY)
    if problems:
        return problems
    if "pageref" in entry and entry["pageref"] not in page_ids:
        problems.append(f"{where}.pageref names no page")
    request, response = entry["request"], entry["response"]
    problems += check_keys(f"{where}.request", request, REQUEST)
    if "postData" in request:
        problems += check_keys(f"{where}.request.postData", request["postData"], {
            "mimeType": _text, "params": _is_pairs, "text": _text})
    problems += check_keys(f"{where}.response", response, RESPONSE)
    problems += check_keys(f"{where}.response.content", response.get("content"),
                           {"size": _is_number, "mimeType": _text})
    timings = entry["timings"]
    problems += check_keys(f"{where}.timings", timings, {
        "send": lambda v: _is_number(v) and v >= 0,
        "wait": lambda v: _is_number(v) and v >= 0,
        "receive": lambda v: _is_number(v) and v >= 0})
    total = sum(v for v in timings.values() if _is_number(v) and v > 0)
    if not problems and abs(total - entry["time"]) > 0.01:
        problems.append(f"{where}.time is not the sum of its timings")
    return problems


@pytest.mark.parametrize("reveal", [False, True])
def test_har_validates_against_the_har_1_2_structure(app, reveal):
    document = json.loads(export(app, "har", reveal=reveal))
    assert check_har(document) == []
    entries = document["log"]["entries"]
    assert len(entries) == 6  # the callback and five back-channel calls
    assert [p["title"] for p in document["log"]["pages"]][0].startswith("Step 3:")


def test_har_checker_finds_problems():
    assert check_har({"log": {"version": "1.1", "creator": {}, "entries": [{}]}})


def test_har_entries_carry_the_wire(app):
    entries = json.loads(export(app, "har", reveal=True))["log"]["entries"]
    callback, token = entries[0], entries[1]
    assert callback["response"]["status"] == 0
    assert "No response recorded" in callback["response"]["comment"]
    assert {"name": "code", "value": CODE} in callback["request"]["queryString"]
    assert {"name": "session", "value": SESSION} in callback["request"]["cookies"]
    assert token["request"]["method"] == "POST"
    assert token["request"]["postData"]["mimeType"] == (
        "application/x-www-form-urlencoded")
    assert {"name": "code", "value": CODE} in token["request"]["postData"]["params"]
    assert token["response"]["status"] == 200
    assert json.loads(token["response"]["content"]["text"])["access_token"] == ACCESS_1
    assert token["startedDateTime"] == "2026-11-27T20:39:13.000Z"
    assert token["time"] == 6.6


# --- The downloads ------------------------------------------------------------------


# The runner moves ``localhost`` to the loopback literal; the test client follows.
LOOPBACK = "http://127.0.0.1"


def _get(client, path: str):
    return client.get(path, base_url=LOOPBACK)


@pytest.fixture
def stored(app, client):
    """Store runs for this test client's browser: ``stored(kind="sandbox")``."""
    web = demo_apps(app.config)[0]
    with client.session_transaction(base_url=LOOPBACK) as session:
        session["browser"] = "browser-1"

    def save(kind: str = "sandbox", owner: str = "browser-1") -> Run:
        with app.app_context():
            made = make_run(kind=kind, client_id=web.client_id,
                            client_secret=web.client_secret, owner=owner)
            run = store.create(owner, made.flow, made.provider)
            run.steps, run.secrets, run.status = made.steps, made.secrets, "active"
            # A real provider's secrets are sealed, here under a key no browser has.
            store.save(run, SecretBox(owner, os.urandom(32), app.config["SECRET_KEY"]))
        return run

    return save


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("md", "text/markdown; charset=utf-8"),
    ("sh", "application/x-sh; charset=utf-8"),
    ("http", "text/plain; charset=utf-8"),
    ("json", "application/json; charset=utf-8"),
    ("har", "application/json; charset=utf-8"),
])
def test_download(client, stored, fmt, content_type):
    run = stored()
    response = _get(client, f"/runs/{run.id}/export.{fmt}")
    assert response.status_code == 200
    assert response.content_type == content_type
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="flowlab-authorization-code-{run.id}.{fmt}"')
    assert response.headers["Cache-Control"] == "no-store"
    assert ACCESS_1 not in response.get_data(as_text=True)


def test_download_with_secrets_on_the_sandbox(app, client, stored):
    run = stored()
    text = _get(client, f"/runs/{run.id}/export.sh?secrets=1").get_data(as_text=True)
    secret = demo_apps(app.config)[0].client_secret
    assert f"CLIENT_SECRET=${{CLIENT_SECRET:-{secret}}}\n" in text


def test_download_with_secrets_refused_for_other_providers(client, stored):
    run = stored(kind="spotify")
    assert _get(client, f"/runs/{run.id}/export.har?secrets=1").status_code == 403
    masked = _get(client, f"/runs/{run.id}/export.har")
    assert masked.status_code == 200 and ACCESS_1 not in masked.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/runs/{id}/export.pdf", "/runs/{id}/export.",
                                  "/runs/nope/export.md"])
def test_download_not_found(client, stored, path):
    run = stored()
    assert _get(client, path.format(id=run.id)).status_code == 404


def test_download_of_another_browsers_run_is_not_found(client, stored):
    run = stored(owner="browser-2")
    assert _get(client, f"/runs/{run.id}/export.json").status_code == 404


@pytest.mark.parametrize("kind", ["sandbox", "discovered"])
def test_a_masked_basic_header_never_fails_an_export(app, client, stored, kind):
    run = stored(kind=kind)
    for record in run.steps:
        for exchange in record.exchanges:
            exchange["request"]["headers"] = [
                (k, "Basic \u00ff\u00fe…ac55" if v.startswith("Basic ") else v)
                for k, v in exchange["request"]["headers"]]
    with app.app_context():
        store.save(run, SecretBox(run.owner, os.urandom(32), app.config["SECRET_KEY"]))
    for fmt in FORMATS:
        assert _get(client, f"/runs/{run.id}/export.{fmt}").status_code == 200, fmt


def test_step_page_offers_the_exports(client, stored):
    run = stored()
    page = _get(client, f"/runs/{run.id}").get_data(as_text=True)
    assert "Take it away" in page
    for fmt in FORMATS:
        assert f"/runs/{run.id}/export.{fmt}" in page
    assert f"/runs/{run.id}/export.sh?secrets=1" in page


# --- End to end: a real run on the served sandbox -----------------------------------


def _secrets_of(document: dict) -> set[str]:
    """Every secret and token in a JSON export that includes them."""
    found = set()
    for step in document["steps"]:
        for exchange in step["exchanges"]:
            for part in ("request", "response"):
                message = exchange[part] and Exchange.from_dict(exchange).__dict__[part]
                found |= _message_secrets(message) if message else set()
    return {value for value in found if len(value) >= 8}


def _message_secrets(message: Message) -> set[str]:
    found = set()
    for where, name, value in message.fields():
        leaf = name.split(".")[-1]
        if where != "header" and leaf in {"access_token", "refresh_token", "code",
                                          "code_verifier", "client_secret"}:
            found.add(value)
        elif name.lower() == "authorization":
            credentials = value.partition(" ")[2]
            found.add(credentials)
            if value.lower().startswith("basic "):
                found.add(base64.b64decode(credentials).decode().partition(":")[2])
        elif name.lower() in ("cookie", "set-cookie"):
            found |= {c.partition("=")[2] for c in value.split(";") if "=" in c}
    return found


@pytest.mark.parametrize("flow_id", ["client-credentials", "authorization-code"])
def test_no_secret_of_a_live_run_in_any_export(live_server, flow_id):
    from tests.flowrunner import FlowRunner

    runner = FlowRunner(live_server).start(flow_id)
    runner.run_all()
    full = runner.session.get(runner.run_url + "/export.json?secrets=1", timeout=10)
    secrets = _secrets_of(full.json())
    assert len(secrets) >= 3  # client secret, its Basic form, an access token
    for fmt in FORMATS:
        text = runner.session.get(f"{runner.run_url}/export.{fmt}", timeout=10).text
        forms = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s))}
        assert [f for f in forms if f in text] == [], fmt


def test_curl_script_gets_a_fresh_token_later(live_server, tmp_path):
    from tests.flowrunner import FlowRunner

    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    script = tmp_path / "flow.sh"
    answer = runner.session.get(runner.run_url + "/export.sh?secrets=1", timeout=10)
    script.write_text(answer.text)
    assert _bash_syntax(answer.text, tmp_path).returncode == 0
    # Later: the whole script runs, no browser needed for client credentials.
    result = subprocess.run(["bash", str(script)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("### Step 2")[0]
    status_line = first.split("\n")[1]
    assert status_line.startswith("HTTP/1.1 200"), result.stdout
    token = json.loads(first.split("\n\n", 1)[1])["access_token"]
    full = runner.session.get(runner.run_url + "/export.json?secrets=1", timeout=10)
    captured = full.json()["steps"][0]["exchanges"][0]["response"]["body"]
    assert token and token != json.loads(captured)["access_token"]  # a fresh token
    assert result.stdout.count("HTTP/1.1 ") == len(full.json()["steps"])


@pytest.mark.browser
def test_one_click_downloads_from_the_run_page(page, live_server):
    page.goto(live_server("/run/client-credentials"))
    page.get_by_role("button", name="Start the run").click()
    while page.locator("#next").count():
        with page.expect_navigation():
            page.locator("#next").click()
    exports_block = page.get_by_role("region", name="Take it away")
    with page.expect_download() as info:
        exports_block.get_by_role("link", name="HAR (dev tools)").click()
    download = info.value
    assert re.fullmatch(r"flowlab-client-credentials-[\w-]+\.har",
                        download.suggested_filename)
    assert check_har(json.loads(Path(download.path()).read_text())) == []


# --- Hostile values: nothing a provider sends breaks out of its place --------------

# A line break to end a comment and run a command; a request line for .http; raw HTML
# for Markdown; REST Client's environment lookup; a terminal escape; a bidi override.
MARKER = "PWNED"
EVIL = ("https://evil.example/x\ntouch " + MARKER + "\r\n<img src=x onerror=alert(1)>"
        "{{$processEnv HOME}} GET http://evil.example/ HTTP/1.1\x1b[2J\u202e`|'\"$(id)")


def hostile_run() -> Run:
    """A run on a provider whose issuer, endpoints and answers carry ``EVIL``."""
    run = make_run(kind="discovered")
    run.provider = replace(run.provider, name="Provider at " + EVIL, issuer=EVIL)
    steps = run.steps
    steps[0] = replace(steps[0], data={
        **steps[0].data, "url": steps[0].data["url"] + "&x=" + quote(EVIL)})
    steps[2] = replace(steps[2], data={
        **steps[2].data, "params": [("code", CODE), ("iss", EVIL), ("state", STATE)]},
        exchanges=({**steps[2].exchanges[0], "note": EVIL}, *steps[2].exchanges[1:]))
    steps[3] = replace(steps[3], error=EVIL)
    request = steps[4].exchanges[0]["request"]
    request["headers"].append(["X-Evil", EVIL])
    steps[4].exchanges[0]["url"] += "/" + EVIL
    return run


def _controls(line: str) -> list[str]:
    import unicodedata
    return [ch for ch in line if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]


FAKE_CURL = r"""#!/usr/bin/env bash
for arg in "$@"; do printf '%s\0' "$arg" >> "$CURL_LOG"; done
printf '\n\0' >> "$CURL_LOG"
printf 'HTTP/1.1 200 OK\r\n\r\n{"access_token": "A", "refresh_token": "R"}\n200'
"""
# Only the random values are fixed, so the test knows the state to send back.
FAKE_PYTHON = """#!/usr/bin/env bash
case "$*" in *token_urlsafe*) echo fixed-random-value; exit;; esac
exec {python} "$@"
"""


def test_hostile_values_run_no_command_in_the_curl_script(app, tmp_path):
    text = export(app, "sh", run=hostile_run())
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in comments if _controls(line)] == []
    assert _bash_syntax(text, tmp_path).returncode == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    import shutil
    for name, body in (("curl", FAKE_CURL), ("python3", FAKE_PYTHON.format(
            python=shutil.which("python3")))):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    back = (f"http://127.0.0.1:5000/run/callback?code=new-code&state="
            f"fixed-random-value&iss={quote(EVIL, safe='')}")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CURL_LOG": str(tmp_path / "curl.log"),
           "CLIENT_SECRET": "s3cret"}
    (tmp_path / "replay.sh").write_text(text)
    ran = subprocess.run(["bash", "replay.sh"], input=back + "\n", cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert not (tmp_path / MARKER).exists(), ran.stdout
    assert "uid=" not in ran.stdout + ran.stderr
    calls = (tmp_path / "curl.log").read_bytes().decode().split("\n\0")
    me = [call.split("\0") for call in calls if "X-Evil" in call]
    assert me, calls
    assert f"X-Evil: {EVIL}" in me[0], me[0]  # one argument, byte for byte


def test_hostile_values_stay_in_their_lines_in_the_http_file(app):
    text = export(app, "http", run=hostile_run())
    assert check_http_file(text) == []
    assert "{{$" not in text  # never REST Client's environment lookup
    assert [line for line in text.split("\n") if _controls(line)] == []
    assert not any(line.startswith(("GET http://evil", "<img")) for line in
                   text.split("\n"))


def test_hostile_values_are_text_in_the_markdown(app):
    import markdown as python_markdown

    text = export(app, "md", run=hostile_run())
    rendered = python_markdown.markdown(text, extensions=["tables", "fenced_code"])
    assert "<img" not in rendered and "&lt;img" in rendered
    assert "\r" not in text and "\x1b" not in text and "\u202e" not in text


def test_json_and_har_hold_hostile_values_as_data(app):
    run = hostile_run()
    for fmt in ("json", "har"):
        text = export(app, fmt, run=run)
        assert any(EVIL in value for value in _strings(json.loads(text)))


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("field", ["issuer", "authorize", "token", "api"])
@pytest.mark.parametrize("bad", ["https://as.example/x\ntouch PWNED",
                                 "https://as.example/x\r\nGET /y HTTP/1.1",
                                 "https://as.example/a b", "https://as.example/\x1b[2J",
                                 "https://as.example/\u2028x"])
def test_providers_refuse_urls_that_are_not_one_clean_line(app, field, bad):
    """Where the values enter: issuer and endpoints must be URLs (RFC 8414 §2)."""
    from flowlab.core import providers
    from flowlab.web.session import lab_hosts

    urls = dict.fromkeys(("issuer", "authorize", "token", "api"),
                         "https://as.example/ok")
    urls[field] = bad
    with app.test_request_context(), pytest.raises(providers.ProviderError):
        providers.manual(urls["issuer"], urls["authorize"], urls["token"],
                         urls["api"], ("id", ""), "", hosts=lab_hosts())


def test_discovery_refuses_an_issuer_with_a_line_break(app):
    from flowlab.core import discovery
    from flowlab.core import providers
    from flowlab.web.session import lab_hosts

    issuer = "https://as.example\ntouch PWNED"
    metadata = {"issuer": issuer, "authorization_endpoint": "https://as.example/a",
                "token_endpoint": "https://as.example/t"}
    with app.test_request_context(), pytest.raises(providers.ProviderError):
        discovery.from_metadata(metadata, ("id", ""), "", "", hosts=lab_hosts())


@pytest.mark.parametrize("flow_id", ["authorization-code-pkce", "device-authorization"])
def test_markdown_handout_links_work_outside_the_app(live_server, flow_id):
    """Every link points at the lab's public address, none at a path of the app."""
    import markdown as python_markdown

    from tests.flowrunner import FlowRunner

    runner = FlowRunner(live_server).start(flow_id)
    runner.run_all()
    text = runner.session.get(runner.run_url + "/export.md", timeout=10).text
    html = python_markdown.markdown(text, extensions=["tables", "fenced_code"])
    links = re.findall(r'<a href="([^"]+)"', html)
    assert len(links) >= 2
    outside = [link for link in links if not link.startswith(live_server.url + "/")]
    assert outside == []
    # No link syntax left over as text, whether escaped or in a table cell.
    assert not re.search(r"\]\\?\(/", text)
