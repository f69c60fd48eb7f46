"""Every code sample in content/lessons runs as printed, or at least parses.

Each fenced block of each lesson is checked by language: Python compiles, shell passes
``bash -n``, JavaScript passes ``node --check`` (as a module), JSON parses. The flow
lessons' samples then run for real, in subprocesses, against the sandbox served over
TLS on 127.0.0.1, and the test plays the browser: it signs in through the sandbox's
HTML forms and follows the redirect to the sample's callback or feeds it to the sample.

The rule: a sample may differ from what is printed only by
- ``https://accounts.spotify.com`` and ``https://api.spotify.com`` becoming the
  sandbox's base URL (``https://127.0.0.1:PORT/sandbox``), and
- the placeholder credentials ``your-client-id`` / ``your-client-secret`` becoming a
  sandbox app's, or the ``SPOTIFY_CLIENT_ID`` / ``SPOTIFY_CLIENT_SECRET`` (and
  ``CODE``, ``VERIFIER``, ``REFRESH_TOKEN``) environment variables that a sample reads
  being set to real values.
A sample that only defines functions gets a few lines appended that call them, as the
reader's web framework or page would. The subprocesses trust the test certificate
through environment variables and never get ``OAUTHLIB_INSECURE_TRANSPORT``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests

from flowlab.core.http import s256
from tests.conftest import make_app
from tests.lesson_samples import HttpsServer
from tests.lesson_samples import blocks
from tests.lesson_samples import make_certificate
from tests.lesson_samples import substitute
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import make_client
from tests.sandbox_helpers import pkce_pair

ALL = blocks()
FLOW_LESSONS = {"authorization-code", "authorization-code-pkce", "client-credentials",
                "implicit", "refresh-tokens", "loopback-redirects", "back-channel"}
CHECK_ONLY = {  # runnable languages in the flow lessons that only parse, and why
    "implicit:javascript:0": "legacy browser code: the flow is removed, shown to read",
}
RUNNERS = (
    "authorization-code:python:0", "authorization-code:bash:0",
    "authorization-code-pkce:python:0", "authorization-code-pkce:python:1",
    "authorization-code-pkce:bash:0", "authorization-code-pkce:javascript:0",
    "client-credentials:python:0", "client-credentials:bash:0",
    "refresh-tokens:python:0", "refresh-tokens:bash:0",
    "loopback-redirects:python:0", "back-channel:python:0",
    "back-channel:javascript:0",
)
SHELL = ("bash", "sh", "shell")
SCRIPT = ("javascript", "js")


def sample(name: str) -> str:
    return next(b.code for b in ALL if b.name == name)


@pytest.mark.parametrize("block", ALL, ids=lambda b: b.name)
def test_every_sample_parses(block, tmp_path):
    if block.lang in ("python", "py"):
        compile(block.code, block.name, "exec")
    elif block.lang in SHELL:
        run(["bash", "-n", "-c", block.code])
    elif block.lang in SCRIPT:
        path = tmp_path / "sample.mjs"
        path.write_text(block.code)
        run(["node", "--check", str(path)])
    elif block.lang == "json":
        json.loads(block.code)


def test_the_flow_lessons_samples_all_run_or_say_why():
    runnable = {b.name for b in ALL if b.slug in FLOW_LESSONS
                and b.lang in ("python", *SHELL, *SCRIPT)}
    assert runnable == set(RUNNERS) | set(CHECK_ONLY)


# --- The sandbox over TLS, two registered apps, and a browser -----------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    server = HttpsServer(make_app(folder), *make_certificate(folder))
    uris = ("http://127.0.0.1/callback",)  # any port on loopback (RFC 8252 §7.3)
    server.web, server.web_secret = make_client(server.app, uris=uris)
    server.spa, _ = make_client(server.app, confidential=False, uris=uris)
    yield server
    server.close()


def browser(lab) -> Sandbox:
    sandbox = Sandbox(lab.url, lab.app.config)
    sandbox.browser.trust_env = False  # else REQUESTS_CA_BUNDLE beats verify
    sandbox.browser.verify = lab.cert
    return sandbox


def sign_in(lab, url: str) -> str:
    """Open ``url`` as a browser, sign in as alice and agree; the redirect back."""
    response = browser(lab).authorize(parse_qsl(urlsplit(url).query))
    assert response.status_code in (302, 303), response.text
    return response.headers["Location"]


def query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def code_for(lab, client, redirect_uri: str) -> tuple[str, str]:
    """A code for ``client`` with an S256 challenge; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id, "state": "s",
              "redirect_uri": redirect_uri, "scope": "user-read-private",
              "code_challenge_method": "S256", "code_challenge": challenge}
    url = lab.url + "/sandbox/authorize?" + urlencode(params)
    return query(sign_in(lab, url))["code"], verifier


def env_for(lab, client, secret: str | None = None, **extra) -> dict:
    values = {"SPOTIFY_CLIENT_ID": client.client_id, **extra}
    if secret:
        values["SPOTIFY_CLIENT_SECRET"] = secret
    return lab.env(**values)


def me(lab, access_token: str) -> dict:
    response = requests.get(lab.url + "/sandbox/v1/me", verify=lab.cert, timeout=10,
                            headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    return response.json()


def run(command: list[str], env: dict | None = None, stdin: str = "") -> str:
    done = subprocess.run(command, env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def start(code: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(process: subprocess.Popen, stdin: str = "") -> str:
    out, err = process.communicate(stdin, timeout=60)
    assert process.returncode == 0, err + out
    return out


# --- Authorization code (with the secret and PKCE) ----------------------------------

WEB_APP = """
import json as _json
_session = {}
print(start_login(_session), flush=True)
print(_json.dumps(finish_login(_session, _json.loads(input()))))
"""


def test_web_app_sample_signs_in_over_http_loopback_without_insecure_transport(lab):
    code = substitute(sample("authorization-code:python:0"), lab.url, "")
    process = start(code + WEB_APP, env_for(lab, lab.web, lab.web_secret))
    url = process.stdout.readline().strip()
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    location = sign_in(lab, url)
    assert location.startswith("http://127.0.0.1:8000/callback?")
    token = json.loads(finish(process, json.dumps(query(location)) + "\n"))
    assert token["refresh_token"] and me(lab, token["access_token"])["email"]


def test_the_reviewed_pattern_fails_in_this_environment(lab):
    """The old sample's call raises here too, so the run above proves the fix."""
    old = ("from requests_oauthlib import OAuth2Session\n"
           "OAuth2Session('x').fetch_token('https://127.0.0.1/t', client_secret='s',"
           " authorization_response='http://127.0.0.1:8000/callback?code=c')\n")
    process = start(old, lab.env())
    out, err = process.communicate(timeout=60)
    assert process.returncode != 0 and "InsecureTransportError" in err


def test_web_app_curl_token_request_runs(lab):
    code, verifier = code_for(lab, lab.web, "http://127.0.0.1:8000/callback")
    env = env_for(lab, lab.web, lab.web_secret, CODE=code, VERIFIER=verifier)
    script = substitute(sample("authorization-code:bash:0"), lab.url, "")
    token = json.loads(run(["bash", "-c", script], env))
    assert token["token_type"] == "Bearer" and token["refresh_token"]


# --- PKCE ---------------------------------------------------------------------------


def test_pkce_cli_sample_signs_in_through_its_loopback_listener(lab):
    code = substitute(sample("authorization-code-pkce:python:0"), lab.url, "")
    process = start(code, env_for(lab, lab.spa))
    url = process.stdout.readline().split(": ", 1)[1].strip()
    assert "code_challenge_method=S256" in url
    location = sign_in(lab, url)
    assert location.startswith("http://127.0.0.1:") and "/callback?code=" in location
    page = requests.get(location, timeout=10)  # the browser follows the redirect
    assert page.status_code == 200 and "Signed in" in page.text
    assert "Signed in as Alice Lindqvist" in finish(process)


def test_pkce_verifier_sample_makes_a_valid_pair():
    names: dict = {}
    exec(sample("authorization-code-pkce:python:1"), names)
    assert 43 <= len(names["verifier"]) <= 128 and len(names["verifier"]) == 86
    assert names["challenge"] == s256(names["verifier"])


def test_pkce_curl_token_request_runs(lab):
    code, verifier = code_for(lab, lab.spa, "http://127.0.0.1:8080/callback")
    env = env_for(lab, lab.spa, CODE=code, VERIFIER=verifier)
    script = substitute(sample("authorization-code-pkce:bash:0"), lab.url, "")
    assert json.loads(run(["bash", "-c", script], env))["access_token"]


def test_pkce_fetch_sample_redeems_a_code_with_node(lab, tmp_path):
    code, verifier = code_for(lab, lab.spa, "http://127.0.0.1:8080/callback")
    script = substitute(sample("authorization-code-pkce:javascript:0"), lab.url,
                        lab.spa.client_id)
    script += "\nconsole.log(JSON.stringify(await redeemCode(process.env.CODE," \
              " process.env.VERIFIER)));\n"
    path = tmp_path / "redeem.mjs"
    path.write_text(script)
    out = run(["node", str(path)], lab.env(CODE=code, VERIFIER=verifier))
    assert me(lab, json.loads(out)["access_token"])["display_name"]


# --- Client credentials and the back channel ----------------------------------------


def test_client_credentials_python_sample_searches(lab):
    code = substitute(sample("client-credentials:python:0"), lab.url, "")
    out = run([sys.executable, "-c", code], env_for(lab, lab.web, lab.web_secret))
    assert "Marisol Vega" in out


def test_client_credentials_curl_sample_searches(lab):
    script = substitute(sample("client-credentials:bash:0"), lab.url, "")
    out = run(["bash", "-c", script], env_for(lab, lab.web, lab.web_secret))
    assert "Marisol Vega" in json.dumps(json.loads(out))


def test_back_channel_python_sample_gets_a_token(lab):
    code = substitute(sample("back-channel:python:0"), lab.url, "")
    out = run([sys.executable, "-c", code], env_for(lab, lab.web, lab.web_secret))
    assert out.strip() == "token expires in 3600 seconds"


def test_back_channel_basic_header_sample_runs_but_a_browser_preflight_fails(
        lab, tmp_path):
    script = substitute(sample("back-channel:javascript:0"), lab.url,
                        lab.web.client_id, lab.web_secret)
    path = tmp_path / "basic.mjs"
    path.write_text(script + "\nconsole.log(JSON.stringify(await appToken()));\n")
    assert json.loads(run(["node", str(path)], lab.env()))["access_token"]
    preflight = requests.options(
        lab.url + "/sandbox/api/token", verify=lab.cert, timeout=10,
        headers={"Origin": "https://tool.example",
                 "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"})
    assert "authorization" not in preflight.headers.get(
        "Access-Control-Allow-Headers", "").lower()


# --- Refresh tokens -----------------------------------------------------------------

REFRESH = """
import json as _json
try:
    print(_json.dumps(refresh(_json.loads(input()))))
except SignInAgain as _exc:
    print("SignInAgain:", _exc)
"""


def user_tokens(lab, client, secret: str | None) -> dict:
    code, verifier = code_for(lab, client, "http://127.0.0.1:8000/callback")
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": "http://127.0.0.1:8000/callback", "code_verifier": verifier}
    headers = basic(client.client_id, secret) if secret else {}
    if not secret:
        data["client_id"] = client.client_id
    answer = requests.post(lab.url + "/sandbox/api/token", data=data, headers=headers,
                           verify=lab.cert, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("confidential", [True, False], ids=["code", "pkce"])
def test_refresh_sample_refreshes_and_keeps_a_usable_refresh_token(lab, confidential):
    client, secret = (lab.web, lab.web_secret) if confidential else (lab.spa, None)
    stored = user_tokens(lab, client, secret)
    code = substitute(sample("refresh-tokens:python:0"), lab.url, "") + REFRESH
    env = env_for(lab, client, secret)
    first = json.loads(finish(start(code, env), json.dumps(stored) + "\n"))
    assert first["access_token"] != stored["access_token"]
    assert me(lab, first["access_token"])["id"] == "alice"
    again = json.loads(finish(start(code, env), json.dumps(first) + "\n"))
    assert me(lab, again["access_token"])["id"] == "alice"


def test_refresh_sample_turns_invalid_grant_into_sign_in_again(lab):
    code = substitute(sample("refresh-tokens:python:0"), lab.url, "") + REFRESH
    env = env_for(lab, lab.web, lab.web_secret)
    out = finish(start(code, env), json.dumps({"refresh_token": "nope"}) + "\n")
    assert out.startswith("SignInAgain:")


def test_refresh_curl_sample_runs(lab):
    stored = user_tokens(lab, lab.web, lab.web_secret)
    env = env_for(lab, lab.web, lab.web_secret, REFRESH_TOKEN=stored["refresh_token"])
    script = substitute(sample("refresh-tokens:bash:0"), lab.url, "")
    assert json.loads(run(["bash", "-c", script], env))["access_token"]


# --- The loopback listener ----------------------------------------------------------


def test_loopback_listener_sample_answers_the_redirect_once(lab):
    process = start(sample("loopback-redirects:python:0"), lab.env())
    line = process.stdout.readline()
    assert line.startswith("redirect_uri: http://127.0.0.1:")
    redirect_uri = line.split(": ", 1)[1].strip()
    page = requests.get(redirect_uri + "?code=abc&state=xyz", timeout=10)
    assert page.status_code == 200 and "close this tab" in page.text
    assert "{'code': ['abc'], 'state': ['xyz']}" in finish(process)


# --- The device lesson's poll loop, against a scripted token endpoint ---------------


@pytest.fixture
def scripted_token_endpoint():
    """A stand-in token endpoint answering a list of (status, body, type) in turn."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    script: list[tuple[int, str, str]] = []
    seen: list[str] = []

    def app(environ, start_response):
        seen.append(environ["wsgi.input"].read(
            int(environ.get("CONTENT_LENGTH") or 0)).decode())
        status, body, kind = script.pop(0)
        return Response(body, status, content_type=kind)(environ, start_response)

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/token", script, seen
    server.shutdown()


def _poll_loop() -> dict:
    block = next(b for b in ALL if b.slug == "device-authorization"
                 and b.lang == "python" and "def poll_for_tokens" in b.code)
    namespace: dict = {}
    exec(compile(block.code, "device-authorization.md", "exec"), namespace)
    return namespace


PENDING = (400, '{"error": "authorization_pending"}', "application/json")
STARTED = {"device_code": "dc", "expires_in": 20, "interval": 0.01}


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ('{"error": "access_denied"}', "access_denied", "declined"),
        ('{"error": "expired_token"}', "expired_token", "ask for a new one"),
        ('{"error": "invalid_client"}', "invalid_client", "refused"),
        ("<html>Bad request</html>", "HTTP 400, not JSON", "refused"),
    ],
)
def test_device_poll_loop_tells_each_ending_apart(scripted_token_endpoint, answer,
                                                  error, words):
    """RFC 8628 §3.5: only pending and slow_down mean "poll again"."""
    url, script, seen = scripted_token_endpoint
    kind = "application/json" if answer.startswith("{") else "text/html"
    script += [PENDING, (400, answer, kind)]
    sample = _poll_loop()
    with pytest.raises(sample["DeviceFlowEnded"]) as ended:
        sample["poll_for_tokens"](url, "tv-app", STARTED)
    assert ended.value.error == error
    assert words in str(ended.value)
    assert len(seen) == 2 and "device_code=dc" in seen[0]


def test_device_poll_loop_rides_out_a_server_error_page(scripted_token_endpoint):
    url, script, seen = scripted_token_endpoint
    script += [PENDING, (502, "<html>Bad gateway</html>", "text/html"),
               (503, '{"error": "temporarily_unavailable"}', "application/json"),
               (200, '{"access_token": "at", "token_type": "Bearer"}',
                "application/json")]
    tokens = _poll_loop()["poll_for_tokens"](url, "tv-app", STARTED)
    assert tokens["access_token"] == "at" and len(seen) == 4
