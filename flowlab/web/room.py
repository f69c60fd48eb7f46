"""The room's scoreboard on the web: attendees' nicknames, the leaderboard the
presenter shows or hides, its projector view, and the results as CSV. The logic is
in ``flowlab.core.scoreboard`` and ``flowlab.core.nicknames``; the counts are on the
room page (``flowlab.web.presenter``)."""

from __future__ import annotations

import time

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flowlab.core import nicknames
from flowlab.core import room
from flowlab.core import scoreboard
from flowlab.core.hosts import is_loopback_host
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import services

bp = Blueprint("room", __name__)


def presenter_only(what: str = "reset it") -> None:
    """Reset and clear touch shared state: only the presenter's machine may."""
    if not is_loopback_host(request.remote_addr):
        abort(403, description="Only the machine that runs the lab (the presenter's) "
              f"can {what}.")


def scores() -> dict:
    """What the room page and its JSON show: counts per item, and the leaderboard
    (nicknames and numbers only) when the presenter shows it."""
    board = services().scoreboard
    results = board.collect(room.cleared_at(), browser_id())
    shown = room.leaderboard_shown()
    found = {"items": scoreboard.counts(board.sources, results),
             "leaderboard": {"shown": shown}}
    if shown:
        named = nicknames.of({r.attendee for r in results})
        entries, anonymous = scoreboard.leaders(results, named)
        found["leaderboard"].update(entries=entries, anonymous=anonymous)
    return found


@bp.route("/room/nickname", methods=["GET", "POST"])
def nickname():
    """An attendee's nickname on the room's leaderboard: optional, changeable."""
    browser = browser_id(create=request.method == "POST")
    typed, error = None, None
    if request.method == "POST":
        if request.form.get("action") == "remove":
            nicknames.remove(browser)
            flash("Your nickname is removed.", "success")
            return redirect(url_for(".nickname"), 303)
        typed = request.form.get("nickname", "")
        try:
            nicknames.put(browser, typed)
        except nicknames.NicknameError as refused:
            error = str(refused)
        else:
            flash("Your nickname is saved.", "success")
            return redirect(url_for(".nickname"), 303)
    current = nicknames.get(browser)
    return render_template("room/nickname.html", current=current, error=error,
                           typed=current if typed is None else typed,
                           limit=nicknames.MAX_LENGTH), 400 if error else 200


@bp.post("/presenter/room/leaderboard")
def toggle_leaderboard():
    """Show or hide the leaderboard on the room page (the presenter's screen)."""
    presenter_only("show or hide the leaderboard")
    shown = request.form.get("shown") == "1"
    room.show_leaderboard(shown)
    flash("The leaderboard is shown." if shown else "The leaderboard is hidden.",
          "success")
    return redirect(url_for("presenter.room_page"), 303)


@bp.get("/presenter/room/leaderboard")
def leaderboard():
    """The leaderboard in large type, for the projector."""
    return render_template("presenter/leaderboard.html", scores=scores(),
                           large_type=True)


@bp.get("/presenter/room.csv")
def results_csv():
    """One row per attendee and item since the last clear: no browser id (a
    pseudonym instead), no secret, no cell a spreadsheet would run."""
    presenter_only("download the room's results")
    cleared, key = room.cleared_at(), app_config()["SECRET_KEY"]
    results = services().scoreboard.collect(cleared, browser_id())
    key = key.encode() if isinstance(key, str) else key
    text = scoreboard.as_csv(
        results, nicknames.of({r.attendee for r in results}),
        lambda attendee: scoreboard.pseudonym(key, cleared, attendee))
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="room-{stamp}.csv"',
        "Cache-Control": "no-store"})
