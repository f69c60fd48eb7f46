"""A page on another origin calls the best-practice issuer with a ``DPoP`` header,
in a real Chromium: the browser sends it after the granted preflight and lets the
page read ``DPoP-Nonce`` and ``WWW-Authenticate`` (RFC 9449 §8, §9). The same
call to the Spotify-like token endpoint is blocked by the browser, as before."""

from __future__ import annotations

import http.server
import threading

import pytest

pytestmark = pytest.mark.browser

CALLS = """async ([token, api, spotify]) => {
  const form = new URLSearchParams({grant_type: "refresh_token", refresh_token: "x"});
  const t = await fetch(token, {method: "POST", body: form,
                                headers: {"DPoP": "not.a.proof"}});
  const a = await fetch(api, {headers: {"Authorization": "DPoP x",
                                        "DPoP": "not.a.proof"}});
  let blocked = false;
  try {
    await fetch(spotify, {method: "POST", body: form,
                          headers: {"DPoP": "not.a.proof"}});
  } catch (error) {
    blocked = error instanceof TypeError;
  }
  return {token: t.status, error: (await t.json()).error,
          nonce: t.headers.get("DPoP-Nonce"), api: a.status,
          challenge: a.headers.get("WWW-Authenticate"), blocked};
}"""


class _Blank(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>An app</title><p>An app.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app_origin():
    """A page of a browser app, served on another origin than the sandbox."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_page_sends_dpop_and_reads_the_nonce(chromium, live_server, app_origin):
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app_origin + "/")
    best = live_server.url + "/sandbox/best-practice"
    found = page.evaluate(CALLS, [best + "/api/token", best + "/v1/me",
                                  live_server.url + "/sandbox/api/token"])
    context.close()
    assert found["token"] == 400 and found["error"] == "invalid_dpop_proof", found
    assert found["nonce"], found  # exposed: the page can sign it next
    assert found["api"] == 401 and found["challenge"], found
    assert found["blocked"] is True  # Spotify-like: the preflight is refused
    cors = [text for text in errors if "CORS" in text]
    assert cors and all("/sandbox/api/token" in text and "best-practice" not in text
                        for text in cors), cors
