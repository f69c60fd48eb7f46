"""A gunicorn worker that serves with waitress, so a slow client costs no thread.

gunicorn's threaded worker (gthread) gives a connection a thread as soon as its
first bytes arrive, and the thread then waits for the rest of the request: 64
connections that never finish their headers (Slowloris) take every thread of every
worker, and normal requests time out. waitress reads each connection in one event
loop and buffers the whole request, headers and body, before a thread sees it; it
buffers the response the same way. A thread only ever runs the app, so held
connections cost a socket each and no thread. gunicorn still forks, watches and
replaces the workers; each worker runs waitress on gunicorn's listening sockets,
with gunicorn's ``threads`` and ``worker_connections``. gunicorn's access log and
its trust in a proxy's ``X-Forwarded-Proto`` (``forwarded_allow_ips``) are kept.
waitress's own idle timeout closes kept-alive connections (gunicorn's ``keepalive``
is not used), without losing a request that has arrived (``flowlab.keepalive``).
"""

from __future__ import annotations

import ipaddress
import os
import time
from datetime import datetime
from types import SimpleNamespace

from gunicorn.workers.base import Worker
from waitress import wasyncore

from flowlab.keepalive import create_server

TICK = 1.0  # seconds between heartbeats to the gunicorn master


class WaitressWorker(Worker):
    """One gunicorn worker process, serving with waitress's channels and threads."""

    def run(self) -> None:
        server = create_server(
            self._wrapped(self.wsgi), sockets=[s.sock for s in self.sockets],
            threads=self.cfg.threads, connection_limit=self.cfg.worker_connections,
            clear_untrusted_proxy_headers=False,  # gunicorn's rule below decides
            ident="flowlab")
        while self.alive and self.ppid == os.getppid():
            self.notify()
            wasyncore.loop(timeout=TICK, map=server._map, use_poll=True, count=1)
        self._drain(server)

    def _drain(self, server) -> None:
        """Stop accepting; let running requests finish within the graceful timeout."""
        for channel in list(server._map.values()):
            if getattr(channel, "accepting", False):
                channel.close()  # this process's copy of a listening socket
        dispatcher = server.task_dispatcher
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline and (
                dispatcher.active_count or dispatcher.queue or any(
                    getattr(channel, "total_outbufs_len", 0)
                    for channel in server._map.values())):
            self.notify()
            wasyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)
        dispatcher.shutdown(timeout=1)

    def _wrapped(self, app):
        """``app`` with gunicorn's proxy trust and access log."""
        trusted = self.cfg.forwarded_allow_ips
        networks = self.cfg.forwarded_allow_networks()
        schemes = self.cfg.secure_scheme_headers
        log = self.log

        def from_proxy(address: str) -> bool:
            if "*" in trusted:
                return True
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False
            return any(ip in network for network in networks)

        def wrapped(environ, start_response):
            if from_proxy(environ.get("REMOTE_ADDR", "")):
                for name, secure in schemes.items():
                    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
                    if value is not None:
                        environ["wsgi.url_scheme"] = (
                            "https" if value == secure else "http")
            if not log.access_log_enabled:
                return app(environ, start_response)
            began = datetime.now()
            response = SimpleNamespace(status="-", headers=[], sent=None)

            def start(status, headers, exc_info=None):
                response.status, response.headers = status, headers
                return start_response(status, headers, exc_info)

            try:
                return app(environ, start)
            finally:
                environ.setdefault("RAW_URI", environ.get("REQUEST_URI", "-"))
                headers = {key[5:].replace("_", "-"): value
                           for key, value in environ.items()
                           if key.startswith("HTTP_")}
                log.access(response, headers, environ, datetime.now() - began)

        return wrapped
