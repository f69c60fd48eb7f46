"""Serving with waitress: the public listener plus a private back-channel one.

The runner calls the mounted sandbox over HTTP from inside a request. If those calls
went to the public listener, a burst of runner steps could take every worker thread
and leave none to answer the sandbox: a deadlock until the timeouts. So the sandbox
is also served on a private loopback port with its own threads, and the runner's
back-channel calls go there. Sandbox requests never call out, so that pool always
drains and nothing waits in a circle.
"""

from __future__ import annotations

import threading

from flask import Flask
from waitress import create_server

BACKCHANNEL_THREADS = 8
# Set in the WSGI environ of requests that came in on the private listener. A client
# cannot set it: request headers arrive only as HTTP_* keys.
BACKCHANNEL_KEY = "flowlab.backchannel"


def _tagged(app: Flask):
    """``app`` with its requests marked as having come in on the private listener."""

    def tagged(environ, start_response):
        environ[BACKCHANNEL_KEY] = True
        return app(environ, start_response)

    return tagged


def start_backchannel(app: Flask, threads: int = BACKCHANNEL_THREADS):
    """Serve ``app`` on a free loopback port in a thread; tell the runner about it."""
    server = create_server(_tagged(app), host="127.0.0.1", port=0, threads=threads,
                           ident="flowlab")
    app.config["SANDBOX_BACKCHANNEL_URL"] = f"http://127.0.0.1:{server.effective_port}"
    threading.Thread(target=server.run, name="backchannel", daemon=True).start()
    return server


def stop(server, thread: threading.Thread | None = None) -> None:
    """Close every socket from inside the server's own loop, which then ends."""

    def close_all() -> None:
        server.task_dispatcher.shutdown(timeout=5)
        for channel in list(server._map.values()):
            channel.close()

    server.trigger.pull_trigger(close_all)
    if thread is not None:
        thread.join(timeout=10)
