"""Recording what the sandbox received for the exercises' apps (issue 20 §3).

After the sandbox answers a request to an issuer's authorize, token or device
endpoint or its Web API, this hook asks which client the request named (Basic
credentials, ``client_id``, or the API token's client that ``sandbox/api.py`` left
in the environ). Only an exercise app's client id has the exercises' prefix, so any
other request costs a string comparison and nothing more. An exercise app's request
is recorded in the lab's database, secrets as digests (``flowlab.exercises.traffic``),
for every worker to grade, and its attempt is graded at once (the room's scoreboard
then sees it solved without anyone reading its status).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import Flask
from flask import request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from flowlab.core.storage.db import LAB
from flowlab.exercises import attempts
from flowlab.exercises import traffic
from flowlab.web.sandbox.api import TOKEN_CLIENT
from flowlab.web.sandbox.context import sandbox
from flowlab.web.session import exercise_catalogue

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.after_request(record)


_LONGEST_FIRST: list = [(), ()]  # the profiles last seen, and sorted


def _issuer_path(path: str) -> tuple[str | None, str]:
    """The issuer profile a path is under and the path relative to it."""
    profiles = sandbox().profiles.all
    if profiles is not _LONGEST_FIRST[0]:  # sorted again only when they change
        _LONGEST_FIRST[:] = profiles, sorted(profiles, key=lambda p: -len(p.path))
    for profile in _LONGEST_FIRST[1]:
        if path.startswith(profile.path + "/"):
            return profile.id, path[len(profile.path):]
    return None, ""


def record(response):
    if not request.path.startswith("/sandbox/"):
        return response
    issuer, path = _issuer_path(request.path)
    kind = traffic.kind_of(path) if issuer else None
    if kind is None or not _may_name_exercise(kind):
        return response
    query = list(request.args.items(multi=True))
    form = _form()
    if form is None:  # a body the sandbox refused (413): nothing to grade
        return response
    if kind == "api":
        client = request.environ.get(TOKEN_CLIENT, "")
    else:
        client = traffic.client_of(request.headers, dict(query), dict(form))
    if not client.startswith(traffic.PREFIX):
        return response
    try:
        _keep(client, kind, issuer, path, query, form, response)
    except SQLAlchemyError:  # grading must never break the sandbox's answer
        log.exception("could not record an exercise app's request")
    return response


def _may_name_exercise(kind: str) -> bool:
    """False when Basic credentials name another client: they alone say whose
    request it is (``traffic.client_of``), so nothing more is read."""
    if kind == "api":
        return True
    authorization = request.headers.get("Authorization", "")
    if authorization[:6].lower() != "basic ":
        return True
    return traffic.client_of(request.headers, {}, {}).startswith(traffic.PREFIX)


def _form() -> list[tuple[str, str]] | None:
    """The form body's fields, parsed only when they could concern an exercise
    app (its client id in the body, or named by Basic credentials or the query:
    then the checks read the fields); None for a body too big to read."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return []
    try:
        raw = request.get_data(cache=True)
    except HTTPException:
        return None
    named = traffic.client_of(request.headers, request.args, {})
    if traffic.PREFIX.encode() not in raw and not named.startswith(traffic.PREFIX):
        return []
    return parse_qsl(raw.decode("utf-8", "replace"))


def _keep(client: str, kind: str, issuer: str, path: str, query, form,
          response) -> None:
    conn = LAB.get()
    attempt_id = traffic.attempt_of(conn, client)
    attempt = attempt_id and attempts.get(conn, attempt_id)
    if not attempt:
        return
    body = "" if kind == "authorize" else response.get_data(as_text=True)
    data = traffic.describe(kind, request.method, path, request.headers, query, form,
                            response.status_code,
                            response.headers.get("Location", ""), body)
    data["issuer"] = issuer
    if not traffic.record(conn, attempt.id, kind, response.status_code, data):
        return
    exercise = exercise_catalogue().get(attempt.exercise)
    if exercise is not None and attempt.solved is None:
        values = {"client_id": attempt.client_id, "redirect_uri": exercise.redirect_uri}
        attempts.grade(conn, attempt, exercise, values)
