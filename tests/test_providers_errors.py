"""/provider names why a discovery URL failed, tried against real listeners on
loopback: a name that does not resolve, a closed port, a slow server, TLS spoken to
plain HTTP, an error status, a redirect, a web page and another issuer."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from html import unescape
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from tests.conftest import PROVIDER_HOST
from tests.conftest import free_port
from tests.flowrunner import FlowRunner
from tests.test_security_outbound import RemoteClient

WELL_KNOWN = "/.well-known/oauth-authorization-server"


class Handler(BaseHTTPRequestHandler):
    """Answers every GET the way the server's ``mode`` says."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        mode = self.server.mode
        if mode == "slow":
            time.sleep(3)
        status, kind, body = {
            "404": (404, "text/html", b"<h1>Not Found</h1>"),
            "503": (503, "text/plain", b"busy"),
            "redirect": (302, "text/html", b""),
            "html": (200, "text/html; charset=utf-8", b"<!doctype html><p>Sign in"),
            "issuer": (200, "application/json",
                       json.dumps({"issuer": "https://elsewhere.example"}).encode()),
            "slow": (200, "application/json", b"{}"),
        }[mode]
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "https://elsewhere.example/")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tiny():
    """Start a tiny HTTP server on 127.0.0.2 in a given mode; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(mode: str) -> str:
        server = ThreadingHTTPServer((PROVIDER_HOST, 0), Handler)
        server.daemon_threads = True
        server.mode = mode
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{PROVIDER_HOST}:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def lab(serve):
    return serve(HTTP_TIMEOUT=1)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def _discover(lab, url: str) -> str:
    page = FlowRunner(lab).use_provider("Use this provider", discovery_url=url,
                                        client_id="x")
    assert page.status_code == 400
    assert "No JSON metadata document came back" not in page.text
    assert f'value="{url}"' in page.text  # kept, to correct it
    return _text(page.text)


def test_a_name_that_does_not_resolve(lab):
    url = "https://flowlab-test.invalid" + WELL_KNOWN
    text = _discover(lab, url)
    assert "The name flowlab-test.invalid could not be found (DNS lookup failed)" \
        in text
    assert f"for {url}. Check the spelling of the host" in text


def test_a_name_that_does_not_resolve_for_a_remote_requester(serve):
    """The public-address check resolves the name itself: the same message."""
    remote = RemoteClient(serve(REMOTE_CUSTOM_PROVIDERS=True).app)
    url = "https://flowlab-test.invalid" + WELL_KNOWN
    answer = remote.post("/provider", kind="discovered", client_id="x",
                         discovery_url=url)
    assert answer.status_code == 400
    assert "The name flowlab-test.invalid could not be found (DNS lookup failed)" \
        in _text(answer.text)


def test_a_closed_port(lab):
    origin = f"http://{PROVIDER_HOST}:{free_port(PROVIDER_HOST)}"
    text = _discover(lab, origin + WELL_KNOWN)
    assert f"Nothing accepts connections at {origin}: the connection was refused " \
           f"when fetching {origin + WELL_KNOWN}" in text
    assert "Check the port, and that the provider is running" in text


def test_a_server_too_slow_to_answer(lab, tiny):
    url = tiny("slow") + WELL_KNOWN
    started = time.monotonic()
    text = _discover(lab, url)
    assert time.monotonic() - started < 3
    assert f"{url} did not answer within 1 seconds" in text
    assert "Check that the provider is running and reachable" in text


def test_tls_spoken_to_a_plain_http_server(lab, tiny):
    plain = tiny("html")
    url = plain.replace("http://", "https://") + WELL_KNOWN
    text = _discover(lab, url)
    origin = plain.replace("http://", "https://")
    assert f"The TLS handshake with {origin} failed (wrong version number)" in text
    assert "If the server speaks plain HTTP, use an http:// URL" in text


def test_a_port_that_accepts_and_says_nothing(lab):
    """A listener that never answers: the read times out."""
    with socket.create_server((PROVIDER_HOST, 0)) as silent:
        url = f"http://{PROVIDER_HOST}:{silent.getsockname()[1]}" + WELL_KNOWN
        assert f"{url} did not answer within 1 seconds" in _discover(lab, url)


@pytest.mark.parametrize(("mode", "expected"), [
    ("404", "{url} answered HTTP 404 instead of the metadata document. Check the "
            "path: RFC 8414 puts an issuer's path after"),
    ("503", "{url} answered HTTP 503, an error on the provider's side. Try again "
            "in a moment"),
    ("redirect", "{url} answered HTTP 302, a redirect, which discovery does not "
                 "follow"),
    ("html", "{url} answered HTTP 200, but not with a JSON object (Content-Type: "
             "text/html; charset=utf-8); it looks like a web page"),
    ("issuer", "The document at {url} names another issuer than {base}, the one "
               "its URL was built from; RFC 8414 §3.3 says not to use it. Use the "
               "discovery URL the provider documents"),
])
def test_what_came_back_is_named(lab, tiny, mode, expected):
    base = tiny(mode)
    url = base + WELL_KNOWN
    text = _discover(lab, url)
    assert expected.format(url=url, base=repr(base)[1:-1]) in text
    assert "elsewhere.example" not in text  # the server's own words are not echoed
