"""The attacker: a separate small WSGI app on another loopback address (127.0.0.2).

Why a separate app and not a blueprint of the lab: it shares no route, session,
cookie or trusted host with the lab, so it is a third party in every way a browser
can tell, and nothing of the lab can be reached through its address. Why another
address rather than another port: browsers do not isolate cookies by port, so a page
at 127.0.0.1:<other port> would get and could set the lab's cookies (RFC 6265 §8.5).
It reads the lab runs from the database, so it may run in every process: one
process (waitress) serves it with ``start``; with several (gunicorn), ``share`` opens
its socket once before the fork and each worker serves it with ``start``, as the
private back channel is served (``flowlab.serving``).

This module and ``views.labs`` are the labs' Flask glue: ``incoming`` reads a
request into plain data for a lab's module, ``respond`` turns its answer into a
response.
"""

from __future__ import annotations

import inspect
import socket
import threading
import weakref

from flask import Flask
from flask import Response
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from waitress import create_server

from flowlab.core import ROOT
from flowlab.core.http import from_wsgi
from flowlab.labs.page import ATTACKER_HOST
from flowlab.labs.page import SHOWN
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.web import security
from flowlab.web.session import services

HOST = ATTACKER_HOST
_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by lab app:
# the socket ``share`` opened, or None where it could not


def incoming() -> Incoming:
    """This request as a lab reads it: URL, query, form, the headers worth showing."""
    return Incoming(request.method, request.url, request.base_url, request.host_url,
                    request.args.to_dict(), request.form.to_dict(),
                    from_wsgi(request.environ, shown=SHOWN),
                    tuple(request.headers.items()))


def respond(answer: Answer) -> Response:
    """A lab's answer as a Flask response: a redirect, a rendered page, a body."""
    if answer.location:
        return redirect(answer.location, answer.status)
    body = answer.body
    if answer.template:
        body = render_template(answer.template, **answer.context)
    return Response(body, answer.status, answer.headers, mimetype=answer.mimetype)


def create(lab_app: Flask) -> Flask:
    """The attacker's app: one page per lab run, and the attacker's one action."""
    app = Flask("flowlab.web.attacker", static_folder=str(ROOT / "static"),
                template_folder=str(ROOT / "templates"))
    app.config.update(SECRET_KEY=lab_app.config["SECRET_KEY"] + ":attacker",
                      SESSION_COOKIE_NAME="attacker", TRUSTED_HOSTS=[HOST],
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      HTTP_TIMEOUT=lab_app.config["HTTP_TIMEOUT"],
                      MAX_CONTENT_LENGTH=64 * 1024, OAUTH_MAX_CONTENT_LENGTH=64 * 1024)
    security.init_app(app)
    labs = services(lab_app).labs

    def found(lab_id: str, run_id: str):
        lab, run = labs.catalogue.get(lab_id), labs.store.get(run_id)
        if lab is None or run is None or run.lab != lab_id:
            abort(404)
        return lab, run

    @app.get("/labs/<lab_id>/<run_id>")
    def page(lab_id: str, run_id: str):
        """The attacker's page for one run: bait or loot, as the lab's module says."""
        lab, run = found(lab_id, run_id)
        view = labs.actions(lab_id).attacker_view(run, lab)
        back = f"{run.origin}/labs/{lab_id}/{run.variant}"
        return render_template("labs/attacker.html", lab=lab, run=run, view=view,
                               back=back)

    @app.get("/labs/<lab_id>/<variant>/callback")
    def intercept(lab_id: str, variant: str):
        """A redirect meant for another app, delivered here (code-interception);
        the attacker's page next, unless the lab answers otherwise."""
        run = labs.store.find(lab_id, request.args.get("state"))
        if run is None or run.variant != variant:
            abort(404)
        answer = labs.actions(lab_id).intercept(run, labs.catalogue[lab_id],
                                                lab_app.config, incoming())
        labs.store.save(run)
        return respond(answer) if answer else redirect(f"/labs/{lab_id}/{run.id}",
                                                       303)

    @app.route("/labs/<lab_id>/<run_id>/as/<endpoint>", methods=["GET", "POST"])
    @security.csrf_exempt
    def serve(lab_id: str, run_id: str, endpoint: str):
        """The attacker as an authorization server of its own (lab "mix-up"):
        the lab's module answers its ``endpoint`` (authorize, token)."""
        lab, run = found(lab_id, run_id)
        answer = getattr(labs.actions(lab_id), "serve", None) or abort(404)
        response = answer(run, lab, endpoint, lab_app.config, incoming())
        labs.store.save(run)
        return respond(response)

    @app.post("/labs/<lab_id>/<run_id>")
    def act(lab_id: str, run_id: str):
        """The attacker's action (a replay, say), then the page again; a page with
        several buttons sends the one pressed as ``choice``."""
        lab, run = found(lab_id, run_id)
        action = labs.actions(lab_id).attacker_act
        choice = request.form.get("choice")
        offered = "choice" in inspect.signature(action).parameters
        action(run, lab, lab_app.config, *([choice] if choice and offered else []))
        labs.store.save(run)
        return redirect(f"/labs/{lab_id}/{run_id}", 303)

    return app


def share(lab_app: Flask) -> None:
    """Open the attacker's socket in a parent process, for its forked workers; its
    URL goes in ``LABS_ATTACKER_URL`` (None kept, and a warning, if it cannot)."""
    try:
        sock = socket.create_server((HOST, 0), backlog=1024)
    except OSError as exc:
        _SOCKETS[lab_app] = None
        _missing(lab_app, exc)
        return
    _SOCKETS[lab_app] = sock
    lab_app.config["LABS_ATTACKER_URL"] = f"http://{HOST}:{sock.getsockname()[1]}"


def start(lab_app: Flask, port: int = 0, threads: int = 4):
    """Serve the attacker in threads of this process: on the socket ``share``
    opened, else on ``HOST`` (a free port unless given); its URL goes in
    ``LABS_ATTACKER_URL``. None (and a warning) where the address cannot be bound
    (macOS needs ``sudo ifconfig lo0 alias 127.0.0.2``)."""
    shared = _SOCKETS.get(lab_app, False)
    if shared is None:  # the parent could not bind it, and said so
        return None
    where = {"sockets": [shared]} if shared else {"host": HOST, "port": port}
    try:
        server = create_server(create(lab_app), threads=threads,
                               ident="flowlab-attacker", **where)
    except OSError as exc:
        _missing(lab_app, exc)
        return None
    lab_app.config["LABS_ATTACKER_URL"] = f"http://{HOST}:{server.effective_port}"
    threading.Thread(target=server.run, name="labs-attacker", daemon=True).start()
    return server


def _missing(lab_app: Flask, exc: OSError) -> None:
    lab_app.logger.warning("Labs: no attacker on %s (%s)", HOST, exc)
