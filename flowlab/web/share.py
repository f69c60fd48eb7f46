"""Read-only share links of a run: the owner makes and revokes them; anyone with
one sees the run, every secret masked, nothing to click that acts.

The token travels in the URL, so every answer here says ``Referrer-Policy:
no-referrer`` (no link on the page passes it on) and ``X-Robots-Tag: noindex``, and
is not cached. The shared page is the owner's step page, read only
(``runner.step_page``), and its downloads are the same exports, always masked. A
viewer gets no session id from it: opening a link makes no one an owner.
"""

from __future__ import annotations

import time

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for

from flowlab.core import exports
from flowlab.core.runner import shares
from flowlab.web.exports import send
from flowlab.web.runner import load_run
from flowlab.web.runner import step_page
from flowlab.web.session import addresses

bp = Blueprint("share", __name__)
NEW = "new_share"  # the link just made, shown once to its owner, then forgotten
GONE = ("This shared link does not exist, was revoked by the person who shared "
        "it, or its run has expired (runs last a day).")


@bp.after_request
def _private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/runs/<run_id>/shares")
def create(run_id: str):
    run = load_run(run_id)
    session[NEW] = [run.id, shares.create(run)]
    return redirect(url_for(".links", run_id=run.id), 303)


@bp.get("/runs/<run_id>/shares")
def links(run_id: str):
    """The run's live links; the one just made in full, once."""
    run = load_run(run_id)
    new = session.pop(NEW, None)
    made = (addresses().public.rstrip("/") + url_for(".view", token=new[1])
            if new and new[0] == run.id else None)  # the address a room can open
    now = time.time()
    links = [{**link, "age": _age(now - link["created_at"])}
             for link in shares.live(run)]
    return render_template("runner/shares.html", run=run, made=made, links=links)


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return ("just now" if minutes < 1 else "a minute ago" if minutes == 1
            else f"{minutes} minutes ago")


@bp.post("/runs/<run_id>/shares/<token_hash>/revoke")
def revoke(run_id: str, token_hash: str):
    run = load_run(run_id)
    if not shares.revoke(run, token_hash):
        abort(404, description="This run has no such link, or it was revoked.")
    return redirect(url_for(".links", run_id=run.id, revoked=1), 303)


def _opened(token: str):
    run = shares.opened(token)
    if run is None:
        abort(404, description=GONE)
    return run


@bp.get("/shared/<token>")
def view(token: str):
    return step_page(_opened(token), shared=token)


@bp.get("/shared/<token>/export.<fmt>")
def export(token: str, fmt: str):
    """A download of the shared run: masked, whatever the address asks."""
    run = _opened(token)
    if fmt not in exports.EXPORTERS:
        abort(404, description=f"There is no export called “{fmt}”.")
    return send(run, fmt)
