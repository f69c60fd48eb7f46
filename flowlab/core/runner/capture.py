"""Capture back-channel HTTP exactly as it went over the wire.

A requests transport adapter whose connections record every byte they send; the
response's status line and headers are read from urllib3 as it parsed them. What the
learner sees is the real exchange, not a reconstruction. It is the one place every
byte of the runner passes, so it is also where ``flowlab.core.outbound`` bounds
each call (deadline, size, addresses).
"""

from __future__ import annotations

import time

import requests

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.outbound import GuardedAdapter


class _Recorder:
    def __init__(self) -> None:
        self.sent = bytearray()


def _recording(connection_cls, recorder: _Recorder):
    class Recording(connection_cls):
        def send(self, data) -> None:
            recorder.sent += bytes(data)
            super().send(data)

    return Recording


class CaptureAdapter(GuardedAdapter):
    """Records the bytes of each request; one adapter serves one run step."""

    def __init__(self) -> None:
        self.recorder = _Recorder()
        super().__init__()

    def wrap_connection(self, cls):
        return _recording(cls, self.recorder)

    def send(self, request, **kwargs):
        self.recorder.sent.clear()
        response = super().send(request, **kwargs)
        response.wire_request = bytes(self.recorder.sent)
        return response


def capture_session(session: requests.Session) -> requests.Session:
    """Mount a fresh capture adapter on ``session`` for both schemes; a redirect
    answer is not followed (``requests.TooManyRedirects`` carries it)."""
    adapter = CaptureAdapter()
    session.max_redirects = 0  # the back channel follows no redirect (RFC 9700 §4.12)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.capture = adapter
    return session


def request_message(raw: bytes) -> Message:
    """Parse the recorded bytes of a request into a message."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1))
               for line in lines[1:] if ":" in line]
    return Message(lines[0], headers, body)


def response_message(response: requests.Response) -> Message:
    """The response as urllib3 read it: status line, headers in order, body."""
    raw = response.raw
    version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(getattr(raw, "version", 11),
                                                   "HTTP/1.1")
    start = f"{version} {response.status_code} {response.reason}"
    return Message(start, list(raw.headers.items()), response.content)


def exchange_of(session: requests.Session, response: requests.Response) -> Exchange:
    """The exchange the capture adapter recorded for ``response``."""
    raw = getattr(response, "wire_request", None) or session.capture.recorder.sent
    elapsed = response.elapsed.total_seconds()
    return Exchange(request_message(bytes(raw)), response_message(response),
                    url=response.request.url, started=time.time() - elapsed,
                    elapsed_ms=round(elapsed * 1000, 1))
