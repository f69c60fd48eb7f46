"""Build a weak server: the learner's switches for the lab-only issuer
``/sandbox/lab-weak`` (RFC 9700 §4), a plain form saved per browser (PRG).

At ``/weak-server``, not under ``/labs/``: every ``/labs/<id>`` is a lab, and the
builder is none (``flowlab.labs.weak`` keeps the configurations).
"""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request

from flowlab.core.storage.db import LAB
from flowlab.labs import weak
from flowlab.web.session import browser_id
from flowlab.web.session import services

bp = Blueprint("weak_server", __name__)


@bp.get("/weak-server")
def builder():
    """The switches, this browser's saved ones on, each with its RFC 9700
    section and the labs it opens (a run against this server for each)."""
    labs = services().labs
    saved = weak.latest(LAB.get(), browser_id())
    return render_template("weak_server.html", switches=labs.switches.all,
                           on=saved.switches if saved else (), saved=saved,
                           labs=labs.catalogue)


@bp.post("/weak-server")
def save():
    """A new configuration of this browser's weak server, then the page again."""
    switches = services().labs.switches
    on = [s.id for s in switches.all if s.id in request.form.getlist("switch")]
    weak.save(LAB.get(), browser_id(create=True), on)
    flash(switches.saved(on), "success")
    return redirect("/weak-server#saved", 303)
