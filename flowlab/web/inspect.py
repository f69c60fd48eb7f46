"""The inspector (issue 22 §1): paste anything OAuth on ``/inspect`` (a plain form
POST that renders the answer), or send it to ``POST /api/inspect`` as JSON, which
takes no session, cookie or CSRF token. Nothing pasted is stored or logged."""

from __future__ import annotations

import json
import time

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from flowlab.core.http import Message
from flowlab.core.inspect.answer import LIMIT
from flowlab.core.inspect.answer import TooBig
from flowlab.core.inspect.answer import answer
from flowlab.core.inspect.answer import explain
from flowlab.core.inspect.lab import in_the_lab
from flowlab.core.inspect.lab import inspectable
from flowlab.web.runner import load_run
from flowlab.web.security import csrf_exempt
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import services

bp = Blueprint("inspect", __name__)
NOT_JSON = ('The body must be a JSON object with one member, "input", the text to '
            'inspect: {"input": "https://…"}.')


def _inspect(text: str) -> dict:
    return answer(text, get_content().data("glossary"), time.time())


NO_STORE = {"Cache-Control": "no-store"}  # what was pasted is kept nowhere


def _error(status: int, error: str, message: str):
    return {"error": error, "message": message}, status, NO_STORE


def _page(result: dict | None = None, error: str = "", status: int = 200,
          lab=None, source: dict | None = None):
    """The form, empty (what was pasted is not echoed back), and the answer, with
    its way into the lab and, for a run's message, where it came from."""
    return render_template(
        "inspect/index.html", result=result, error=error, limit=LIMIT // 1024,
        lab=lab, source=source, flows=runner().flows, labs=services().labs.catalogue,
    ), status, NO_STORE


def _explained(text: str, source: dict | None = None):
    try:
        result, pasted, rules = explain(text, get_content().data("glossary"),
                                        time.time())
    except TooBig as refused:
        return _page(error=str(refused), status=413, source=source)
    lab = in_the_lab(pasted, rules, runner().flows, services().labs.catalogue)
    return _page(result, lab=lab, source=source)


@bp.get("/inspect")
def page():
    return _page()


@bp.post("/inspect")
def inspect_form():
    return _explained(request.form.get("input", ""))


@bp.get("/inspect/run/<run_id>/<int:number>/<int:message>")
def run_message(run_id: str, number: int, message: int):
    """Message ``message`` (1, 2, … in page order; 0, the authorization URL) of
    step ``number`` of this browser's run, inspected as if pasted; nothing but the
    ids is in the URL."""
    run = load_run(run_id)
    record = run.steps[number - 1] if 0 < number <= len(run.steps) else None
    sent = [(Message.from_json(e[kind]), e.get("url", "") if kind == "request" else "")
            for e in (record.exchanges if record else ()) for kind in (
                "request", "response") if e.get(kind)]
    url = record.data.get("url") if record else None
    if message == 0 and url:
        text, label = url, "authorization URL"
    elif 0 < message <= len(sent):
        text = inspectable(*sent[message - 1])
        label = "response" if sent[message - 1][0].start.is_response else "request"
    else:
        abort(404, description=f"Step {number} of this run has no message {message}.")
    flow = runner().flow_of(run)
    source = {"run": run.id, "step": number, "flow": flow.name, "label": label,
              "title": flow.steps[number - 1]["title"]
              if number <= len(flow.steps) else ""}
    return _explained(text, source)


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
