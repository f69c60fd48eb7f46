"""The attacker's decoy page on the lab's own site: it frames another page under a
bait (lab "consent-clickjacking", RFC 9700 §4.16, RFC 6749 §10.13); and, on the
same loopback listener, a stand-in internal service only a server should reach
(lab "registration-abuse", RFC 7591 §5).

Why not on 127.0.0.2 with the rest of the attacker: a browser sends no SameSite=Lax
cookie to a page that another *site* frames, so a frame from 127.0.0.2 would show
the sandbox's sign-in page, and no form in it could post. The decoy stands for an
attacker's page on the same site, as on another subdomain with user content:
127.0.0.1 on a port of its own (a site ignores the port, an origin does not). It
serves decoys and nothing else: no session, no cookie, no form. Its own
Content-Security-Policy lets it frame only the lab's origin.
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from flask import Flask
from flask import abort
from flask import render_template
from waitress import create_server

from flowlab.core import ROOT
from flowlab.web.attacker import incoming
from flowlab.web.session import services

HOST = "127.0.0.1"


def create(lab_app: Flask) -> Flask:
    """The decoy's app: one page per lab run, from the lab module's ``decoy``."""
    app = Flask("flowlab.web.decoy", static_folder=str(ROOT / "static"),
                template_folder=str(ROOT / "templates"))
    app.config.update(TRUSTED_HOSTS=[HOST], MAX_CONTENT_LENGTH=1024)
    labs = services(lab_app).labs

    @app.get("/labs/<lab_id>/<run_id>/decoy")
    def decoy(lab_id: str, run_id: str):
        """The bait, with the framed page over it (what ``decoy`` returns)."""
        lab, run = labs.catalogue.get(lab_id), labs.store.get(run_id)
        shown = getattr(labs.actions(lab_id), "decoy", None) if lab else None
        if run is None or run.lab != lab_id or shown is None:
            abort(404)
        view = shown(run, lab, lab_app.config, incoming())
        labs.store.save(run)
        framed = urlsplit(view["frame"])  # and where its redirect may lead
        sources = f"{framed.scheme}://{framed.netloc} " + lab_app.config.get(
            "LABS_ATTACKER_URL", "")
        csp = ("default-src 'self'; style-src 'self'; img-src 'self' data:; "
               f"frame-src {sources.strip()}; object-src 'none'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        page = render_template("labs/decoy.html", lab=lab, run=run, view=view)
        return page, 200, {"Content-Security-Policy": csp,
                           "X-Content-Type-Options": "nosniff",
                           "Referrer-Policy": "no-referrer"}

    @app.get("/labs/<lab_id>/<run_id>/internal")
    def internal(lab_id: str, run_id: str):
        """A stand-in internal service on loopback (lab "registration-abuse"):
        only a server should reach it; the lab's module says what it shows."""
        lab, run = labs.catalogue.get(lab_id), labs.store.get(run_id)
        shown = getattr(labs.actions(lab_id), "internal", None) if lab else None
        if run is None or run.lab != lab_id or shown is None:
            abort(404)
        text = shown(run, lab, incoming())
        labs.store.save(run)
        return text, 200, {"Content-Type": "text/plain; charset=utf-8",
                           "X-Content-Type-Options": "nosniff"}

    return app


def share(lab_app: Flask) -> None:
    """Nothing to open before a fork: each process's decoy has a port of its own,
    and reads the runs from the database as every process does."""


def start(lab_app: Flask, port: int = 0, threads: int = 2):
    """Serve the decoy in threads of this process on ``HOST`` (a free port unless
    given); its URL goes in ``LABS_DECOY_URL``. None where it cannot bind."""
    try:
        sock = socket.create_server((HOST, port), backlog=128)
        server = create_server(create(lab_app), sockets=[sock], threads=threads,
                               ident="flowlab-decoy")
    except OSError as exc:
        lab_app.logger.warning("Labs: no decoy on %s (%s)", HOST, exc)
        return None
    lab_app.config["LABS_DECOY_URL"] = f"http://{HOST}:{server.effective_port}"
    threading.Thread(target=server.run, name="labs-decoy", daemon=True).start()
    return server
