"""Edit and send: a step's request as a form, sent again as a branch of the run.

The views translate only: ``core.runner.edits`` makes the rows, ``core.runner.branch``
the branch and the sending, ``core.runner.beside`` the answer beside the original.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flowlab.core.content import render_markdown
from flowlab.core.runner import beside as beside_
from flowlab.core.runner import branch
from flowlab.core.runner import edits
from flowlab.core.runner import orchestrate
from flowlab.core.runner import registry
from flowlab.core.runner.present import step_parts
from flowlab.web.providers import remote_requester
from flowlab.web.runner import context
from flowlab.web.runner import load_run
from flowlab.web.session import browser_id
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("branch", __name__)
MAX_ROWS = 60


def _editing(run_id: str, number: int):
    """The run, its flow and settings, the request step ``number`` sent, its rows
    and the names a row may use."""
    run = load_run(run_id)
    flow = runner().flow_of(run)
    ctx = context(run, flow)
    used = branch.sent(run, number)
    if used is None:
        abort(404, description=f"Step {number} of this run sent no request to edit.")
    names = edits.named_values(run.secrets, ctx.client_id, ctx.client_secret)
    rows, names = edits.rows_of(used.message, names)
    return run, flow, ctx, used, rows, names


def _form(run, flow, ctx, used, originals, names, rows, path, error=None,
          extra=edits.EXTRA_ROWS):
    redact = orchestrate.redactor(run, ctx, False)
    sent = {(r.where, r.name): r.value for r in originals}
    shown = {name: redact(value) for name, value in sorted(names.items())}
    blank = edits.Row("form" if used.message.body else "query", "", "")
    rows = [*rows, *[blank] * extra][:MAX_ROWS]
    return render_template(
        "runner/edit.html", run=run, flow=flow, used=used, rows=rows, sent=sent,
        names=shown, path=path, error=error, redact=redact, step=flow.steps[
            used.number - 1], texts=get_content().data("runner"), md=render_markdown,
    ), 400 if error else 200


@bp.get("/runs/<run_id>/steps/<int:number>/edit")
def edit(run_id: str, number: int):
    run, flow, ctx, used, rows, names = _editing(run_id, number)
    return _form(run, flow, ctx, used, rows, names, rows, used.path)


@bp.post("/runs/<run_id>/steps/<int:number>/edit")
def send(run_id: str, number: int):
    run, flow, ctx, used, originals, names = _editing(run_id, number)
    count = min(request.form.get("rows", 0, type=int), MAX_ROWS)
    rows = edits.from_form(request.form, count)
    path = (request.form.get("path") or used.path).strip()
    if request.form.get("action") == "more":  # without JavaScript: more blanks
        extra = max(count - len(rows), 0) + edits.EXTRA_ROWS
        return _form(run, flow, ctx, used, originals, names, rows, path,
                     extra=extra)
    try:
        url = branch.destination(ctx.provider, used, path)
        made, browser = branch.make(run, flow, used, url, rows, names,
                                    runner().settings, remote_requester(),
                                    secret_box())
    except edits.EditError as exc:
        return _form(run, flow, ctx, used, originals, names, rows, path, str(exc))
    if browser:  # the front channel: the browser sends it, as before
        return redirect(browser, 303)
    return redirect(url_for(".beside", run_id=made.id), 303)


@bp.get("/runs/<run_id>/beside")
def beside(run_id: str):
    """The branch's answer beside the original's, what changed, what it meant."""
    run = load_run(run_id)
    info = run.options.get("branch")
    if not info:
        abort(404, description="This run is not a branch of another.")
    parent = runner().load(info["of"], browser_id(), secret_box())
    number = info["step"]
    flow = runner().flow_of(run)
    ctx = context(run, flow)
    redact = orchestrate.redactor(run, ctx, False)
    channel = "front" if flow.steps[number - 1]["action"] == "authorize" else "back"
    errors = get_content().data("errors")
    glossary = get_content().data("glossary")
    received = registry.received_in(flow)
    sides = []
    for label, which in (("The original", parent), ("This branch", run)):
        record = which and beside_.answer(which.steps, number, channel)
        sides.append({
            "label": label, "run": which, "said": beside_.said(record, errors),
            "parts": step_parts(record, received, glossary, redact) if record
            else None})
    mine = run.steps[number - 1] if len(run.steps) >= number else None
    typed = [edits.Row(*row) for row in (mine.data.get("branch", {}).get("rows", [])
                                         if mine else [])]
    originals = []
    if parent is not None and branch.sent(parent, number):
        names = edits.named_values(parent.secrets, ctx.client_id, ctx.client_secret)
        originals = edits.rows_of(branch.sent(parent, number).message, names)[0]
    return render_template(
        "runner/beside.html", run=run, parent=parent, number=number, flow=flow,
        step=flow.steps[number - 1], sides=sides, channel=channel, redact=redact,
        changes=edits.changes(originals, typed) if parent else [],
        url=mine.data.get("url") if mine else None, md=render_markdown,
        texts=get_content().data("runner"))
