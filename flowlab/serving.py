"""Serving: the public listener plus a private back-channel one, in every process.

The runner calls the mounted sandbox over HTTP from inside a request. If those calls
went to the public listener, a burst of runner steps could take every worker thread
and leave none to answer the sandbox: a deadlock until the timeouts. So the sandbox
is also served on a private loopback port with its own threads, and the runner's
back-channel calls go there. Sandbox requests never call out, so that pool always
drains and nothing waits in a circle.

With several processes (gunicorn, ``serve_processes``) the master opens one private
loopback socket before it forks; every worker serves it with its own threads, so the
address stored in a run stays good whichever worker runs the next step, and even
after a worker is replaced. The attack labs' attacker (127.0.0.2) is served the same
way. Each worker serves the public listener with waitress too (``flowlab.worker``),
so a client that sends its request slowly holds no thread. A gunicorn started by
hand gets that worker class, and one back channel (and one attacker) per worker,
from this module's settings: ``gunicorn -c python:flowlab.serving
"flowlab:create_app()"``. Served any other way (``flask run``, a bare WSGI server),
there is no back channel: the runner calls the sandbox at its public address, and a
warning says so once per process.
"""

from __future__ import annotations

import socket
import threading
import weakref

from flask import Flask

from flowlab.core.backchannel import tagged
from flowlab.core.storage.db import dispose
from flowlab.keepalive import create_server
from flowlab.web.session import EXTENSION
from flowlab.web.session import services

BACKCHANNEL_THREADS = 8
# gunicorn reads this module's settings with ``-c python:flowlab.serving``.
worker_class = "flowlab.worker.WaitressWorker"
_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # shared, by app


def start_backchannel(app: Flask, threads: int = BACKCHANNEL_THREADS):
    """Serve ``app`` on a free loopback port in a thread, or on the socket opened by
    ``share_backchannel`` before a fork; tell the runner about it."""
    sock = _SOCKETS.get(app)
    where = {"sockets": [sock]} if sock else {"host": "127.0.0.1", "port": 0}
    server = create_server(tagged(app), threads=threads, ident="flowlab", **where)
    app.config["SANDBOX_BACKCHANNEL_URL"] = f"http://127.0.0.1:{server.effective_port}"
    threading.Thread(target=server.run, name="backchannel", daemon=True).start()
    return server


def share_backchannel(app: Flask) -> None:
    """Open the back channel's socket in a parent process, for its forked workers."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
    _SOCKETS[app] = sock
    app.config["SANDBOX_BACKCHANNEL_URL"] = f"http://127.0.0.1:{sock.getsockname()[1]}"


def post_worker_init(worker) -> None:
    """gunicorn hook: each worker process serves the back channel too, and what
    the app serves alongside (the attack labs' attacker on 127.0.0.2)."""
    start_backchannel(worker.wsgi)
    for server in alongside(worker.wsgi):
        server.start(worker.wsgi)


def alongside(app: Flask) -> tuple:
    """The servers the app runs next to itself (``Services.alongside``): each has
    ``share(app)``, before a fork, and ``start(app)``, in each process."""
    return services(app).alongside if EXTENSION in app.extensions else ()


def serve_processes(app: Flask, host: str, port: int, workers: int, threads: int,
                    backchannel: bool = True, access_log: bool = False) -> None:
    """Serve with gunicorn: ``workers`` forked processes with ``threads`` threads
    each (waitress in each, ``flowlab.worker``), the app built once before the
    fork, a back channel in each."""
    from gunicorn.app.base import BaseApplication

    options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
               "worker_class": worker_class, "preload_app": True,
               "proc_name": "flowlab", "control_socket_disable": True}
    if backchannel:
        share_backchannel(app)
        options["post_worker_init"] = post_worker_init
    for server in alongside(app) if backchannel else ():
        server.share(app)  # one address for every worker's attacker
    if access_log:  # one line a request, naming the worker's process id
        options.update(accesslog="-", access_log_format='%(p)s "%(r)s" %(s)s')
    dispose(app)  # no pooled connection may cross the fork into two processes

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return app

    Server().run()


def stop(server, thread: threading.Thread | None = None) -> None:
    """Close every socket from inside the server's own loop, which then ends."""

    def close_all() -> None:
        server.task_dispatcher.shutdown(timeout=5)
        for channel in list(server._map.values()):
            channel.close()

    server.trigger.pull_trigger(close_all)
    if thread is not None:
        thread.join(timeout=10)
