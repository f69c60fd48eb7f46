"""The API console's page: a run's access token calls the provider's API.

The views translate only: the run, its settings and this browser's box go to
``flowlab.core.console``; the page shows what came back over the wire, explained.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flowlab.core import destinations
from flowlab.core.console import calls
from flowlab.core.console import explain
from flowlab.core.console import history
from flowlab.core.content import render_markdown
from flowlab.core.http import Message
from flowlab.core.redact import mask
from flowlab.core.runner import moment
from flowlab.core.runner import orchestrate
from flowlab.web.providers import remote_requester
from flowlab.web.runner import context
from flowlab.web.runner import load_run
from flowlab.web.session import addresses
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("console", __name__)


class Where:
    """Where a run's console may send: the root its paths join, the base they must
    stay under, and that base as the learner's browser knows it."""

    def __init__(self, run, ctx, texts: dict) -> None:
        provider = ctx.provider
        prefix = texts["sandbox"]["prefix"] if provider.is_sandbox else ""
        self.root = provider.api_base or ""
        self.base = self.root + prefix
        public = run.provider.issuer if provider.is_sandbox else self.root
        self.shown_root = public or ""
        self.shown = self.shown_root + prefix
        self.endpoints = texts["endpoint"] if provider.is_sandbox else []


def _granted(run, ctx) -> str | None:
    """The token's scope as one string (oauthlib keeps a list); the scope asked
    for when the answer named none (RFC 6749 §5.1)."""
    scope = (run.secrets.get("token") or {}).get("scope")
    if scope is None:
        return ctx.scope
    return " ".join(scope) if isinstance(scope, list | tuple) else scope


def _state(run_id: str):
    run = load_run(run_id)
    ctx = context(run, runner().flow_of(run))
    texts = get_content().data("console")
    return run, ctx, texts, Where(run, ctx, texts)


def _answer(run, record: dict | None, where: Where, texts: dict,
            redact) -> dict | None:
    """The stored call as the page shows it: its messages and their notes; a
    request sent to the private back channel says so, as on the step page."""
    if record is None:
        return None
    glossary = get_content().data("glossary")
    exchange = record.get("exchange") or {}
    views = [moment.view(kind, Message.from_json(exchange[kind]), glossary, redact)
             for kind in ("request", "response") if exchange.get(kind)]
    here = addresses(run)
    if views and here.sent_privately(exchange):
        views[0].backchannel = (urlsplit(exchange["url"]).netloc,
                                here.public.rstrip("/"))
    moment.explain_once([*(v.headers for v in views), *(v.notes for v in views),
                         *(v.fields for v in views)])
    return {"record": record, "views": views,
            "notes": explain.explain(record, where.endpoints, texts)}


def _render(run, ctx, texts, where, call, *, error=None, shown=None, status=200):
    token = (run.secrets.get("token") or {})
    redact = orchestrate.redactor(run, ctx, False)
    past = history.calls(run.id, secret_box())
    record = next((c for c in past if c["id"] == shown), None) if shown else None
    if record is not None and call == calls.Call():  # the form holds what was sent
        call = calls.Call.from_json(record["call"])
    return render_template(
        "runner/console.html", run=run, flow=runner().flow_of(run),
        texts={**texts, "backchannel": get_content().data("runner")["backchannel"]},
        where=where, call=call, error=error, history=past,
        answer=_answer(run, record, where, texts, redact), md=render_markdown,
        token=mask(token.get("access_token")), scopes=_granted(run, ctx),
        methods=calls.METHODS, choices=texts["token_choices"]), status


@bp.get("/runs/<run_id>/console")
def page(run_id: str):
    run, ctx, texts, where = _state(run_id)
    call = calls.Call()
    picked = request.args.get("use")
    if picked:
        found = next((e for e in where.endpoints if e["id"] == picked), None)
        if found is None:
            abort(404, description=f"There is no endpoint called “{picked}”.")
        call = calls.Call(method=found["method"],
                          path=found.get("example", found["path"]),
                          query=found.get("query", ""), endpoint=found["id"])
    return _render(run, ctx, texts, where, call, shown=request.args.get("call"))


@bp.post("/runs/<run_id>/console")
def send(run_id: str):
    run, ctx, texts, where = _state(run_id)
    access = (run.secrets.get("token") or {}).get("access_token")
    if not access or not where.root:
        abort(404, description=texts["no_token"])
    try:
        call = calls.read_form(request.form, texts)
    except calls.FormError as exc:
        return _render(run, ctx, texts, where, calls.Call.from_json(request.form),
                       error=str(exc), status=400)
    try:
        url = destinations.join(where.root, call.path, where.base)
    except destinations.Outside:
        return _render(run, ctx, texts, where, call, status=400,
                       error=texts["outside"].format(base=where.shown))
    settings = runner().settings
    found = calls.send(
        call, url, calls.bearer(call, access), orchestrate.redactor(run, ctx, False),
        timeout=settings.timeout, deadline=settings.deadline,
        public_only=run.provider.kind == "discovered" and remote_requester(),
        texts=texts)
    record = {"call": call.to_json(), "at": time.time(), **found,
              "scopes": _granted(run, ctx)}
    call_id = history.keep(run.id, secret_box(), record, settings.ttl)
    return redirect(url_for(".page", run_id=run.id, call=call_id, _anchor="answer"),
                    303)
