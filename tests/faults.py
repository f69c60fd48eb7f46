"""A workshop under faults: attendees run the PKCE flow in their own sessions while
the lab's workers are killed or its database restarts (tests/test_runner_faults.py).

Each attendee follows the pages' forms as a person would: a click whose answer never
came (the worker died) is clicked again, a page that did not move is clicked again
after a moment, a failed page (an error) is left with Back and clicked again. What
each attendee met is kept: how long a step held them, and any dead end (a page with
no way on).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from html import unescape
from urllib.parse import urljoin

import requests

FLOW = "authorization-code-pkce"
DEAD_ENDS = ("No run is waiting", "The run stopped", "Internal Server Error",
             "Traceback")


@dataclass
class Attendee:
    """One browser running one flow; ``held`` is the longest wait on one step."""

    base: str
    session: requests.Session = field(default_factory=requests.Session)
    page: requests.Response | None = None
    held: float = 0.0
    dead_end: str | None = None
    clicks: int = 0
    failed_pages: int = 0
    trail: list[str] = field(default_factory=list)

    def send(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request, sent again when no answer came (a browser's retry, or a
        person clicking again), then its redirects followed."""
        for _ in range(20):
            try:
                response = self.session.request(method, url, timeout=30,
                                                allow_redirects=False, **kwargs)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                self.trail.append(f"no answer: {method} {url}")
                time.sleep(0.2)
                continue
            if response.status_code >= 500:  # a failed page: back, and click again
                self.failed_pages += 1
                self.trail.append(f"{response.status_code} {method} {url}")
                time.sleep(0.3)
                continue
            if response.is_redirect:
                method, kwargs = "GET", {}
                url = urljoin(response.url, response.headers["Location"])
                continue
            self.page = response
            self.trail.append(f"{response.status_code} {response.url}")
            return response
        raise AssertionError(f"no answer from {url}")

    def click(self, button: str, **fields) -> requests.Response:
        """Submit the form of the button labelled ``button`` on the current page."""
        from tests.forms import find_form

        form, chosen = find_form(self.page.text, button)
        data = [(k, v) for k, v in form["fields"] if k and k not in fields]
        if chosen["name"]:
            data.append((chosen["name"], chosen["value"]))
        data += list(fields.items())
        url = urljoin(self.page.url, form["action"]) or self.page.url
        return self.send(form["method"].upper(), url, data=data)

    def steps_done(self) -> int:
        return len(re.findall(r'class="run-step run-step-done"', self.page.text))

    def run(self) -> Attendee:
        """Start a PKCE run and click through to its end."""
        self.send("GET", f"{self.base}/run/{FLOW}")
        self.click("Start")
        done, since = self.steps_done(), time.monotonic()
        while self.clicks < 80:
            self.clicks += 1
            text = self.page.text
            self.dead_end = next((d for d in DEAD_ENDS if d in text), None)
            if self.dead_end or self.page.status_code >= 400:
                self.dead_end = self.dead_end or f"HTTP {self.page.status_code}"
                return self
            if "/runs/" in self.page.url and self.steps_done() != done:
                done, since = self.steps_done(), time.monotonic()
            self.held = max(self.held, time.monotonic() - since)
            if "That is the whole flow" in text and 'id="next"' not in text:
                return self
            self._one_click(text)
        self.dead_end = "the run did not end in 80 clicks"
        return self

    def _one_click(self, text: str) -> None:
        link = re.search(r'<a id="next"[^>]*href="([^"]+)"', text)
        at_provider = "/sandbox/" in self.page.url
        if at_provider and "Agree" in text:
            self.click("Agree")
        elif at_provider and "Continue as" in text:
            self.click("Continue as")
        elif link:
            self.send("GET", urljoin(self.page.url, unescape(link.group(1))))
        elif "Sign in again" in text:
            self.click("Sign in again")
        elif 'id="next"' in text:
            if 'role="alert"' in text or "flash" in text:
                time.sleep(0.3)  # a person reads the message, then clicks again
            self.click("Next")
        else:  # a page with nothing to click: look again, as a person would
            time.sleep(0.5)
            self.send("GET", self.page.url)


class Killer(threading.Thread):
    """SIGKILL one of the server's worker processes every ``every`` seconds,
    ``times`` times in all, while the server starts new ones."""

    def __init__(self, pid: int, times: int = 6, every: float = 2.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.times, self.every = pid, times, every
        self.killed: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psutil

        while len(self.killed) < self.times:
            if self.stopping.wait(self.every):
                return
            workers = [p for p in psutil.Process(self.pid).children()
                       if p.pid not in self.killed]
            if not workers:  # none started yet: try again shortly
                self.stopping.wait(0.2)
                continue
            victim = workers[len(self.killed) % len(workers)]
            victim.kill()
            self.killed.append(victim.pid)


class CutAccounts(threading.Thread):
    """A Spotify-shaped accounts server on a raw socket whose first token request
    is read, then left with no answer: the connection closes, as when the process
    answering it is killed; or it gets the raw answer ``first`` (a server error).
    Later token requests get a token (``standin``)."""

    def __init__(self, host: str = "127.0.0.2", first: bytes | None = None) -> None:
        import socket

        super().__init__(daemon=True)
        self.first = first
        self.sock = socket.create_server((host, 0))
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.token_requests: list[str] = []
        self.start()

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn) -> None:
        import json
        from urllib.parse import parse_qs
        from urllib.parse import urlencode
        from urllib.parse import urlsplit

        from tests import standin

        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        size = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)) if (
            b"ength:" in head) else 0
        while len(body) < size:
            body += conn.recv(65536)
        target = head.split(b" ")[1].decode()
        if target.startswith("/authorize"):
            query = parse_qs(urlsplit(target).query)
            back = urlencode({"code": standin.CODE, "state": query["state"][0]})
            where = f"{query['redirect_uri'][0]}?{back}"
            conn.sendall(f"HTTP/1.1 303 See Other\r\nLocation: {where}\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
            return
        self.token_requests.append(body.decode())
        if len(self.token_requests) == 1:
            if self.first:
                conn.sendall(self.first)
            return  # read, never answered: the connection just closes
        answer = json.dumps({"access_token": standin.ACCESS, "token_type": "Bearer",
                             "expires_in": 3600, "refresh_token": standin.REFRESH,
                             "scope": "playlist-read-private user-read-email "
                                      "user-read-private"}).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Cache-Control: no-store\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))

    def close(self) -> None:
        self.sock.close()
