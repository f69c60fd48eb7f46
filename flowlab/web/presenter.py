"""Presenter mode: the join page's QR code, speaker notes, the room, and a reset."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from markupsafe import Markup

from flowlab.core import room
from flowlab.core.content import render_markdown
from flowlab.core.demo import all_demo_apps
from flowlab.core.hosts import is_loopback_host
from flowlab.core.runner import store
from flowlab.sandbox.reset import reset_demo
from flowlab.sandbox.store import DB
from flowlab.web import lab_notes
from flowlab.web.room import presenter_only
from flowlab.web.room import scores
from flowlab.web.sandbox.context import USER_KEY
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("presenter", __name__)


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code, drawn here as inline SVG (no image service)."""
    import segno  # only the presenter's pages draw one: not loaded at start-up

    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=8, border=4, omitsize=True, svgclass="qr",
                          lineclass=None, dark="#000", light="#fff",
                          title=f"QR code for {text}")
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


def serve_command(address: str, public: bool) -> str:
    """The command that serves the lab to a room at ``address`` (see app.py)."""
    parts = urlsplit(address)
    port = parts.port or 5000
    url = address if public else f"http://YOUR-IP:{port}"
    return (f"FLOWLAB_PUBLIC_URL={url} .venv/bin/python app.py"
            f" --host 0.0.0.0 --port {port}")


def _followed(owner: str | None):
    """The run and step number (0: not started) this browser's step page showed
    last, else its latest run at its last step done."""
    seen = session.get("viewing")
    followed = owner and isinstance(seen, list)
    run = store.load(seen[0], owner, secret_box()) if followed else None
    if run is not None:
        return run, min(seen[1], len(run.steps))
    runs = store.owned(owner, 1, secret_box()) if owner else []
    return (runs[0], len(runs[0].steps)) if runs else (None, 0)


@bp.get("/presenter")
def view():
    """The presenter's screen: this step, its speaker notes, the next step."""
    wanted = request.args.get("run")
    pinned = request.args.get("step", type=int)
    owner = browser_id()
    run, shown = _followed(owner)
    if wanted:
        run = store.load(wanted, owner or "", secret_box())
        shown = len(run.steps) if run else 0
    else:
        latest = store.owned(owner, 1, secret_box()) if owner else []
        lab_run = lab_notes.latest(latest[0] if latest else None)
        if lab_run is not None:  # presenting a lab: its notes (flowlab/web/lab_notes)
            return lab_notes.page(lab_run)
    if run is None:
        return render_template("presenter/view.html", run=None)
    flow = runner().flow_of(run)
    viewing = min(max((pinned or shown) - 1, 0), len(flow.steps) - 1)
    notes = get_content().data("speaker-notes").get(flow.id, {})
    return render_template(
        "presenter/view.html", run=run, flow=flow, viewing=viewing, notes=notes,
        md=render_markdown, started=bool(run.steps), shown=shown,
        follow=pinned is None and not wanted, step=flow.steps[viewing],
        upcoming=flow.step(viewing + 1))


@bp.get("/presenter/now.json")
def now():
    """The run and step this browser's step page shows, for the presenter view;
    the lab run instead when the latest run is a lab's (flowlab/web/lab_notes)."""
    owner = browser_id()
    latest = store.owned(owner, 1, secret_box()) if owner else []
    lab_run = lab_notes.latest(latest[0] if latest else None)
    if lab_run is not None:
        return _no_store(jsonify(lab_notes.where(lab_run)))
    run, shown = _followed(owner)
    where = {"run": run.id, "done": len(run.steps), "step": shown} if run else {}
    return _no_store(jsonify(where))


@bp.get("/presenter/room")
def room_page():
    flows = runner().flows.values()
    return render_template("presenter/room.html",
                           counts=room.counts(flows, browser_id()),
                           scores=scores(), cleared=_clock(room.cleared_at()),
                           presenter=is_loopback_host(request.remote_addr))


@bp.post("/presenter/room/clear")
def clear_room():
    """Start the room's counts from zero for a new session; runs are not touched."""
    presenter_only("clear the room")
    room.clear()
    flash("The room is cleared: it now counts only runs started from now on. "
          "Attendees' runs were not touched and go on as before.", "success")
    return redirect(url_for(".room_page"), 303)


@bp.get("/presenter/room.json")
def room_json():
    """The room's counts, polled by presenter.js: numbers, and the nicknames on the
    leaderboard while the presenter shows it; no browser id, no secret."""
    flows = runner().flows.values()
    found = room.as_json(room.counts(flows, browser_id()))
    return _no_store(jsonify({**found, **scores()}))


@bp.get("/presenter/reset")
def confirm_reset():
    presenter_only()
    owner = browser_id()
    mine = len(store.owned(owner, 1000, secret_box())) if owner else 0
    return render_template("presenter/reset.html", mine=mine)


@bp.post("/presenter/reset")
def reset():
    """Clear this browser's runs, the demo apps' consents and this browser's grants."""
    presenter_only()
    owner = browser_id()
    held = room.held_secrets(owner) if owner else set()
    apps = [app.client_id for app in all_demo_apps(app_config())]
    cleared = reset_demo(DB.get(), apps, held)
    runs = room.forget_runs(owner) if owner else 0
    session.pop(USER_KEY, None)
    flash(f"Reset done: {runs} of your runs, {cleared.consents} consents and "
          f"{cleared.grants} grants removed; you are logged out of the sandbox. "
          "Attendees' runs were not touched.", "success")
    return redirect(url_for(".confirm_reset"), 303)


def _clock(when: float) -> str | None:
    return time.strftime("%H:%M:%S UTC", time.gmtime(when)) if when else None


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response

