"""A kept-alive connection reused just as the server's idle sweep runs: the request
that has arrived is answered, never closed away (``flowlab.keepalive``, the
listeners of ``app.py`` in every mode)."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from flowlab.keepalive import create_server
from flowlab.keepalive import waiting
from flowlab.serving import stop

TIMEOUT = 60  # the idle timeout (channel_timeout) of the server under test


def hello(environ, start_response):
    body = environ["wsgi.input"].read() or b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server():
    server = create_server(hello, host="127.0.0.1", port=0, threads=2,
                           channel_timeout=TIMEOUT)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server
    stop(server, thread)


def sweep_when_waiting(server, sweeping: threading.Event) -> None:
    """Run inside the server's event loop, which reads nothing meanwhile: once the
    client's next request is in the socket, unread, sweep as if the connection had
    been idle past the timeout."""
    (channel,) = server.active_channels.values()
    sweeping.set()
    deadline = time.monotonic() + 10
    while not waiting(channel.socket) and time.monotonic() < deadline:
        time.sleep(0.01)
    server.maintenance(time.time() + TIMEOUT + 1)


def test_a_post_reusing_a_connection_at_the_idle_timeout_is_answered(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=10)
    conn.request("GET", "/")
    first = conn.getresponse()
    assert (first.status, first.read()) == (200, b"hello")
    sweeping = threading.Event()
    server.trigger.pull_trigger(lambda: sweep_when_waiting(server, sweeping))
    assert sweeping.wait(10)
    conn.request("POST", "/", body=b"grant_type=client_credentials")
    second = conn.getresponse()  # waitress as it comes closes it unanswered here
    assert (second.status, second.read()) == (200, b"grant_type=client_credentials")
    conn.close()


def test_an_idle_connection_is_still_closed_at_the_timeout(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=10)
    conn.request("GET", "/")
    conn.getresponse().read()
    closed = threading.Event()
    server.trigger.pull_trigger(lambda: (
        server.maintenance(time.time() + TIMEOUT + 1), closed.set()))
    assert closed.wait(10)
    conn.sock.settimeout(10)
    assert conn.sock.recv(1) == b""  # the server closed it: end of stream
    conn.close()
