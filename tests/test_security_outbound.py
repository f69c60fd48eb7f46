"""Calls to providers are bounded: an overall deadline, a size cap, parse errors
caught, and only public addresses for a remote requester's own provider."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from html import unescape

import pytest

from flowlab.core.outbound import is_public
from tests import standin
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner

WELL_KNOWN = "/.well-known/oauth-authorization-server"


class Hostile:
    """A raw HTTP server on another loopback address that misbehaves on purpose:
    ``trickle`` (a byte every 0.2 s), ``huge`` (a 3 MB JSON body), ``nested``
    (JSON nested 100 000 deep)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.create_server((PROVIDER_HOST, 0))
        self.url = f"http://{PROVIDER_HOST}:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                self.requests.append(self._request(conn))
                body = self._body()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\n")
                if self.mode == "trickle":  # no length: read until the end
                    conn.sendall(b"\r\n")
                    for byte in body:
                        conn.sendall(bytes([byte]))
                        time.sleep(0.2)
                else:
                    conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            except OSError:
                return

    @staticmethod
    def _request(conn: socket.socket) -> bytes:
        """The whole request: unread bytes at close would reset the connection
        (RST) and race the client's read of the answer."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)):
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _body(self) -> bytes:
        if self.mode == "nested":
            return b"[" * 100_000 + b"]" * 100_000
        document = {"issuer": self.url, "access_token": "a" * 20,
                    "token_type": "Bearer",
                    "authorization_endpoint": self.url + "/authorize",
                    "token_endpoint": self.url + "/token"}
        if self.mode == "huge":
            document["padding"] = "x" * (3 * 1024 * 1024)
        return json.dumps(document).encode() + b" " * 100  # 0.2 s a byte: 40 s+

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def hostile():
    servers: list[Hostile] = []

    def start(mode: str) -> Hostile:
        servers.append(Hostile(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def lab(serve):
    """Reads may take 5 s each, but a whole call only 2 s."""
    return serve(HTTP_DEADLINE=2)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _discover(runner, url: str):
    return runner.use_provider("Use this provider", discovery_url=url,
                               client_id="x")


def _token_step(runner, server: Hostile):
    runner.use_provider("Use this provider", authorize_url=server.url + "/authorize",
                        token_url=server.url + "/token", client_id="x",
                        client_secret="y")
    return runner.start("client-credentials").next()


def test_discovery_stops_at_the_deadline_of_a_trickling_server(lab, hostile):
    server = hostile("trickle")
    started = time.monotonic()
    page = _discover(FlowRunner(lab), server.url + WELL_KNOWN)
    assert time.monotonic() - started < 5  # the deadline is 2 s, not per read
    assert page.status_code == 400
    assert "within 2 seconds, the deadline" in _text(page.text)


@pytest.mark.parametrize(("mode", "message"), [
    ("huge", "larger than 1 MB"),
    ("nested", "nested too deeply"),
])
def test_discovery_refuses_huge_or_deeply_nested_documents(lab, hostile, mode,
                                                           message):
    page = _discover(FlowRunner(lab), hostile(mode).url + WELL_KNOWN)
    assert page.status_code == 400
    assert message in _text(page.text)


def test_runner_stops_at_the_deadline_of_a_trickling_token_endpoint(lab, hostile):
    runner = FlowRunner(lab)
    started = time.monotonic()
    page = _token_step(runner, hostile("trickle"))
    assert time.monotonic() - started < 6
    assert "run-step-failed" in page.text
    assert "within 2 seconds, the deadline" in _text(page.text)


@pytest.mark.parametrize(("mode", "message"), [
    ("huge", "larger than 1 MB"),
    ("nested", "nested too deeply"),
])
def test_runner_refuses_huge_or_nested_token_responses(lab, hostile, mode, message):
    runner = FlowRunner(lab)
    page = _token_step(runner, hostile(mode))
    assert page.status_code == 200 and "run-step-failed" in page.text
    assert message in _text(page.text)
    assert len(page.content) < 300_000  # not the 3 MB answer
    assert os.path.getsize(lab.app.config["RUNS_DATABASE"]) < 1_000_000


# A remote attendee's own provider may only be on a public address.


@pytest.fixture
def remote_lab(serve):
    return serve(REMOTE_CUSTOM_PROVIDERS=True, HTTP_DEADLINE=2)


class RemoteClient:
    """The app's test client, as a browser on another machine (192.0.2.7)."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.env = {"REMOTE_ADDR": "192.0.2.7"}

    def get(self, path: str):
        return self.client.get(path, base_url="http://127.0.0.1",
                               environ_base=self.env)

    def post(self, path: str, **data):
        page = self.get("/provider")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.client.post(path, base_url="http://127.0.0.1",
                                environ_base=self.env,
                                data={"csrf_token": token, **data})


@pytest.mark.parametrize("url", [
    "http://127.0.0.2:{port}" + WELL_KNOWN,          # loopback literal
    "https://provider.example:{port}" + WELL_KNOWN,  # a name resolving to loopback
])
def test_a_remote_requester_cannot_make_the_lab_fetch_loopback(remote_lab, hostile,
                                                                url, monkeypatch):
    server = hostile("huge")
    resolve = socket.getaddrinfo

    def dns(host, *args, **kwargs):  # what a hostile name server would answer
        if host == "provider.example":
            host = PROVIDER_HOST
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    port = server.url.rsplit(":", 1)[1]
    answer = RemoteClient(remote_lab.app).post(
        "/provider", kind="discovered", client_id="x",
        discovery_url=url.format(port=port))
    assert answer.status_code == 400
    assert "not a public address" in _text(answer.text)
    assert server.requests == []


def test_a_remote_requesters_run_does_not_reach_loopback(remote_lab, hostile):
    server = hostile("huge")
    remote = RemoteClient(remote_lab.app)
    remote.post("/provider", kind="discovered", client_id="x", client_secret="y",
                authorize_url=server.url + "/a", token_url=server.url + "/token")
    started = remote.post("/run/client-credentials")
    assert started.status_code == 303, _text(started.text)
    run = started.headers["Location"]
    assert remote.post(run + "/next").status_code == 303
    page = remote.get(run)
    assert "run-step-failed" in page.text
    assert "not a public address" in _text(page.text)
    assert server.requests == []


@pytest.mark.parametrize(("address", "public"), [
    ("64:ff9b::7f00:1", False),      # NAT64 (RFC 6052) of 127.0.0.1
    ("64:ff9b::a00:1", False),       # NAT64 of 10.0.0.1
    ("64:ff9b::808:808", True),      # NAT64 of 8.8.8.8
    ("64:ff9b:1::808:808", False),   # local-use NAT64 (RFC 8215)
    ("2002:7f00:1::", False),        # 6to4 (RFC 3056) of 127.0.0.1
    ("2002:c0a8:101::1", False),     # 6to4 of 192.168.1.1
    ("2002:808:808::1", True),       # 6to4 of 8.8.8.8
    ("::7f00:1", False),             # IPv4-compatible (RFC 4291) 127.0.0.1
    ("::a9fe:a9fe", False),          # IPv4-compatible 169.254.169.254
    ("::ffff:127.0.0.1", False),     # IPv4-mapped
    ("::ffff:8.8.8.8", True),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ("::1", False),
    ("2606:4700:4700::1111", True),
    ("8.8.8.8", True),
    ("127.0.0.2", False),
])
def test_ipv6_addresses_carrying_ipv4_are_judged_by_it(address, public):
    assert is_public(address) is public


def test_a_remote_requester_cannot_reach_loopback_through_nat64(remote_lab, hostile):
    """64:ff9b::7f00:2 is 127.0.0.2 to a NAT64 gateway: refused before connecting."""
    server = hostile("huge")
    port = server.url.rsplit(":", 1)[1]
    answer = RemoteClient(remote_lab.app).post(
        "/provider", kind="discovered", client_id="x",
        discovery_url=f"https://[64:ff9b::7f00:2]:{port}" + WELL_KNOWN)
    assert answer.status_code == 400
    assert "not a public address" in _text(answer.text)
    assert server.requests == []


def test_the_local_presenter_may_still_use_loopback_providers(lab):
    fake = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    try:
        runner = FlowRunner(lab)
        page = _discover(runner, fake(WELL_KNOWN))
        assert page.status_code == 200, _text(page.text)
    finally:
        fake.close()

