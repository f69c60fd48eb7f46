"""Compare with…: the same moment of two of this browser's runs, side by side."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from flowlab.core.content import render_markdown
from flowlab.core.redact import Redactor
from flowlab.core.runner import compare
from flowlab.core.runner import orchestrate
from flowlab.core.runner import store
from flowlab.web.providers import current_choice
from flowlab.web.providers import redirect_uri
from flowlab.web.providers import secret_for
from flowlab.web.session import browser_id
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("compare", __name__)
BACK = "compare_back"  # the comparison a run started from this page returns to


def _stops(run, actions: dict) -> list[compare.Stop]:
    return compare.stops(runner().flow_of(run), run.steps, actions)


def _load(run_id: str):
    """This browser's run, or a 404 that says why it may be missing."""
    run = runner().load(run_id, browser_id(), secret_box())
    if run is None:
        abort(404, description=orchestrate.MISSING)
    return run


def _pick(stops: list[compare.Stop], number: int | None) -> compare.Stop:
    """The step asked for, else the next one with a message, else the last; the
    first when none was asked for."""
    return next((s for s in stops if s.number >= (number or 0)), stops[-1])


@bp.get("/compare")
def page():
    run = _load(request.args.get("run", ""))
    config = get_content().data("compare")
    actions = compare.by_action(config)
    mine = _stops(run, actions)
    if not mine:
        abort(404, description="This run has no message to compare yet: run its "
              "first step, then come back.")
    left = _pick(mine, request.args.get("step", type=int))
    other, theirs, right = None, [], None
    if request.args.get("other"):
        other = _load(request.args["other"])  # 404 unless ours
        theirs = [s for s in _stops(other, actions) if s.moment == left.moment]
        wanted = request.args.get("other_step", type=int)
        right = (next((s for s in theirs if s.number == wanted), None)
                 or compare.counterpart(left, theirs))
        if (session.get(BACK) or {}).get("flow") == other.flow:
            session.pop(BACK)
    reveal = request.args.get("reveal") == "1"
    return render_template(
        "runner/compare.html", run=run, left=left, other=other, right=right,
        theirs=theirs, sections=compare.sections(left, right) if right else [],
        redact=_redactor([r for r in (run, other) if r], reveal), reveal=reveal,
        moment=_moment_name(config, left.moment), intro=config.get("intro", ""),
        flows=runner().flows, md=render_markdown,
        choices=_choices(run, left, actions),
    )


@bp.post("/compare/start/<flow_id>")
def start(flow_id: str):
    """Remember which comparison to come back to, then start a run of ``flow_id``
    as its start page would: a 307 has the browser post the same form there."""
    run = _load(request.form.get("run", ""))
    session[BACK] = {"run": run.id, "step": request.form.get("step", type=int),
                     "flow": flow_id}
    return redirect(url_for("runner.start", flow_id=flow_id), 307)


def _redactor(runs: list, reveal: bool) -> Redactor:
    """One redactor for both runs: each masks as on its own step page."""
    found: set[str] = set()
    for run in runs:
        flow = runner().flow_of(run)
        ctx = runner().context(run, flow, secret_for, redirect_uri)
        found |= set(orchestrate.redactor(run, ctx, reveal).originals)
    return Redactor(found, reveal)


def _choices(run, left: compare.Stop, actions: dict) -> list[dict]:
    """Per flow: this browser's runs that reached the moment, and whether the flow
    has such a step at all with the provider this browser uses now."""
    provider = current_choice().provider
    flows = runner().flows
    owned = [r for r in store.owned(browser_id(), box=secret_box())
             if r.id != run.id and r.flow in flows]
    found = []
    for flow in flows.values():
        runs = [r for r in owned if r.flow == flow.id and any(
            s.moment == left.moment for s in _stops(r, actions))]
        steps = flow.for_provider(provider).steps
        has = any(compare.moment_of(s, actions) == left.moment for s in steps)
        found.append({"flow": flow, "runs": runs, "has": has})
    return found


def _moment_name(config: dict, key: str) -> str:
    names = {m["id"]: m["name"] for m in config.get("moment", [])}
    return names.get(key, key)
