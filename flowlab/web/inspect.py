"""The inspector (issue 22 §1): paste anything OAuth on ``/inspect`` (a plain form
POST that renders the answer), or send it to ``POST /api/inspect`` as JSON, which
takes no session, cookie or CSRF token. Nothing pasted is stored or logged."""

from __future__ import annotations

import json
import time

from flask import Blueprint
from flask import render_template
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from flowlab.core.inspect.answer import LIMIT
from flowlab.core.inspect.answer import TooBig
from flowlab.core.inspect.answer import answer
from flowlab.web.security import csrf_exempt
from flowlab.web.session import get_content

bp = Blueprint("inspect", __name__)
NOT_JSON = ('The body must be a JSON object with one member, "input", the text to '
            'inspect: {"input": "https://…"}.')


def _inspect(text: str) -> dict:
    return answer(text, get_content().data("glossary"), time.time())


NO_STORE = {"Cache-Control": "no-store"}  # what was pasted is kept nowhere


def _error(status: int, error: str, message: str):
    return {"error": error, "message": message}, status, NO_STORE


def _page(result: dict | None = None, error: str = "", status: int = 200):
    """The form, empty (what was pasted is not echoed back), and the answer."""
    return render_template("inspect/index.html", result=result,
                           error=error, limit=LIMIT // 1024), status, NO_STORE


@bp.get("/inspect")
def page():
    return _page()


@bp.post("/inspect")
def inspect_form():
    text = request.form.get("input", "")
    try:
        return _page(_inspect(text))
    except TooBig as refused:
        return _page(error=str(refused), status=413)


@bp.post("/api/inspect")
@csrf_exempt
def api():
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "The body is not valid JSON. " + NOT_JSON)
    if not isinstance(body, dict) or not isinstance(body.get("input"), str):
        return _error(400, "invalid_request", NOT_JSON)
    try:
        return _inspect(body["input"]), 200, NO_STORE
    except TooBig as refused:
        return _error(413, "too_large", str(refused))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A body over the site's limit, refused before it was read."""
    message = (f"The text is over {LIMIT // 1024} KB, the most the inspector "
               "reads. Paste one message at a time.")
    if request.path.startswith("/api/"):
        return _error(413, "too_large", message)
    return _page(error=message, status=413)
