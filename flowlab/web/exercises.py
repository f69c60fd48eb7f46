"""Exercises graded from the wire: the JSON contract and the pages (issue 20 §3).

The JSON endpoints need no session, cookie, body or CSRF token: a fresh client
gets its attempt. The pages start attempts with a CSRF-protected form, tie them to
the browser and remember them. Everything else is ``flowlab.exercises``.
"""

from __future__ import annotations

import time

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import TooManyRequests

from flowlab import exercises as domain
from flowlab.core.scoreboard import Source
from flowlab.core.storage.db import LAB
from flowlab.exercises import attempts
from flowlab.exercises import catalogue
from flowlab.sandbox.public import DB
from flowlab.sandbox.public import client_secret
from flowlab.web import exercises_wire
from flowlab.web import session
from flowlab.web.sandbox.context import sandbox
from flowlab.web.security import csrf_exempt
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import exercise_catalogue

bp = Blueprint("exercises", __name__)
NO_STORE = {"Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    """Load the exercises, serve them, and record their apps' traffic."""
    profiles = {p.id for p in app.extensions["sandbox"].profiles.all}
    lab = session.services(app)
    lab.exercises = domain.load(app.config["CONTENT_DIR"], profiles)
    lab.scoreboard.register(Source(
        "exercise", {e.id: e.title for e in lab.exercises.values()}, domain.room_rows))
    app.register_blueprint(bp)
    app.jinja_env.globals["exercises_for"] = exercises_for
    app.jinja_env.filters["utc_time"] = utc_time
    exercises_wire.init_app(app)


def utc_time(when: float) -> str:
    """When an attempt started, as the list shows it."""
    return time.strftime("%d %b, %H:%M UTC", time.gmtime(when))


def exercises_for(page_path: str) -> list[catalogue.Exercise]:
    """The exercises that practise a lesson (its page path, ``lessons/<id>``)."""
    slug = page_path.removeprefix("lessons/")
    if slug == page_path:
        return []
    return [e for e in exercise_catalogue().values() if e.lesson == slug]


def _exercise(exercise_id: str) -> catalogue.Exercise | None:
    return exercise_catalogue().get(exercise_id)


def values(attempt: attempts.Attempt, exercise: catalogue.Exercise,
           secret: str | None) -> dict[str, str]:
    """The attempt's values, on the address the learner used (RFC 8414 §2)."""
    issuer = request.host_url.rstrip("/") + sandbox().issuer_path(exercise.issuer)
    found = {"client_id": attempt.client_id, "redirect_uri": exercise.redirect_uri,
             "issuer": issuer, "authorization_endpoint": issuer + "/authorize",
             "token_endpoint": issuer + "/api/token",
             "device_authorization_endpoint": issuer + "/api/device",
             "scope": exercise.scope}
    if secret is not None:
        found["client_secret"] = secret
    return found


def _summary(exercise: catalogue.Exercise) -> dict:
    return {"id": exercise.id, "title": exercise.title, "summary": exercise.summary,
            "practises": exercise.practises, "client_type": exercise.client_type,
            "issuer_profile": exercise.issuer, "grants": list(exercise.grants),
            "lesson": url_for("pages.lesson", slug=exercise.lesson),
            "attempts": url_for(".api_start", exercise_id=exercise.id)}


def _error(status: int, message: str, headers: dict | None = None):
    return {"error": message}, status, {**NO_STORE, **(headers or {})}


def _start(exercise: catalogue.Exercise, browser: str | None):
    return attempts.start(LAB.get(), DB.get(), app_config(), exercise,
                          address=request.remote_addr or "", browser=browser)


@bp.get("/api/exercises")
def api_list():
    return {"exercises": [_summary(e) for e in exercise_catalogue().values()]}


@bp.post("/api/exercises/<exercise_id>/attempts")
@csrf_exempt
def api_start(exercise_id: str):
    """Start an attempt: its own app, secret only when confidential."""
    exercise = _exercise(exercise_id)
    if exercise is None:
        return _error(404, f"There is no exercise called “{exercise_id}”.")
    try:
        attempt, secret = _start(exercise, None)
    except attempts.TooMany as exc:
        return _error(429, "Too many attempts from this address this hour; try again"
                      " later.", {"Retry-After": str(exc.retry_after)})
    found = values(attempt, exercise, secret)
    body = {"attempt": attempt.id, "exercise": exercise.id, **found,
            "instructions": catalogue.fill(exercise.instructions, found),
            "status": url_for(".api_status", attempt_id=attempt.id),
            "page": url_for(".attempt_page", attempt_id=attempt.id)}
    return body, 201, NO_STORE


def _graded(attempt_id: str):
    attempt = attempts.get(LAB.get(), attempt_id)
    exercise = attempt and _exercise(attempt.exercise)
    if exercise is None:
        return None, None, None, None
    found = values(attempt, exercise, None)
    solved, report = attempts.grade(LAB.get(), attempt, exercise, found)
    return attempt, exercise, solved, report


@bp.get("/api/exercises/attempts/<attempt_id>")
def api_status(attempt_id: str):
    """The attempt's grade, from what the sandbox received for its app."""
    attempt, exercise, solved, report = _graded(attempt_id)
    if attempt is None:
        return _error(404, "There is no such attempt (attempts last a day).")
    return {"attempt": attempt.id, "exercise": exercise.id, "solved": solved,
            "checks": report}, 200, NO_STORE


@bp.get("/exercises")
def index():
    mine = attempts.of_browser(LAB.get(), browser_id())
    return render_template("exercises/index.html",
                           exercises=exercise_catalogue().values(), mine=mine,
                           titles={k: e.title for k, e in exercise_catalogue().items()})


@bp.get("/exercises/<exercise_id>")
def exercise_page(exercise_id: str):
    exercise = _exercise(exercise_id) or abort(
        404, description=f"There is no exercise called “{exercise_id}”.")
    mine = [a for a in attempts.of_browser(LAB.get(), browser_id())
            if a.exercise == exercise.id]
    return render_template("exercises/exercise.html", exercise=exercise, mine=mine)


@bp.post("/exercises/<exercise_id>/attempts")
def start_page(exercise_id: str):
    exercise = _exercise(exercise_id) or abort(404)
    try:
        attempt, _ = _start(exercise, browser_id(create=True))
    except attempts.TooMany as exc:
        raise TooManyRequests(
            description="Too many attempts from this address this hour. Try again"
            f" in {exc.retry_after // 60 + 1} minutes.",
            retry_after=exc.retry_after) from None
    return redirect(url_for(".attempt_page", attempt_id=attempt.id), 303)


@bp.get("/exercises/attempts/<attempt_id>")
def attempt_page(attempt_id: str):
    attempt, exercise, solved, report = _graded(attempt_id)
    if attempt is None:
        abort(404, description="There is no such attempt (attempts last a day).")
    # The learner's own throwaway secret, shown (folded) to the browser that
    # started the attempt, or to anyone holding an attempt started from the API
    # (whose client had the secret already); never to another browser.
    own = attempt.browser is None or attempt.browser == browser_id()
    secret = client_secret(DB.get(), app_config(), attempt.client_id) if own else None
    found = values(attempt, exercise, secret)
    return render_template(
        "exercises/attempt.html", attempt=attempt, exercise=exercise, solved=solved,
        report=report, values=found, own=own,
        instructions=catalogue.fill_html(exercise.instructions_html, found),
        curl=catalogue.fill(exercise.curl, found),
        python=catalogue.fill(exercise.python, found),
        status_url=url_for(".api_status", attempt_id=attempt.id))
