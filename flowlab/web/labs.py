"""Attack labs: the story, the lab client's routes, and the captured trace
(RFC 9700 §4); the labs themselves are data in ``content/labs``."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.labs import catalogue
from flowlab.labs import client
from flowlab.labs import progress
from flowlab.labs import resource
from flowlab.labs.catalogue import VARIANTS
from flowlab.web.attacker import incoming
from flowlab.web.attacker import respond
from flowlab.web.security import csrf_exempt
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import services

bp = Blueprint("labs", __name__, url_prefix="/labs")


def _labs():
    return services().labs


def _lab(lab_id: str, variant: str | None = None):
    lab = _labs().catalogue.get(lab_id)
    if lab is None or (variant is not None and variant not in VARIANTS):
        abort(404)
    return lab


def _run(lab_id: str, variant: str):
    """This browser's current run of the lab variant, if any: its lab runs hang on
    its browser id, as its runs and its nickname do (the room's scoreboard)."""
    run_id = session.get("lab_runs", {}).get(f"{lab_id}/{variant}")
    run = _labs().store.get(run_id)
    return run if run and run.browser == browser_id() else None


def _back(lab_id: str, variant: str):
    return redirect(f"/labs/{lab_id}/{variant}#trace", 303)


@bp.get("/")
def index():
    """Every lab in order, or those of one level and one RFC 9700 section."""
    every = list(_labs().catalogue.values())
    level = request.args.get("level", "")
    section = request.args.get("section", "")
    shown = catalogue.matching(every, level, section)
    return render_template("labs/index.html", labs=shown, total=len(every),
                           levels=catalogue.LEVELS, level=level, section=section,
                           sections=catalogue.sections_of(every),
                           attacker=app_config().get("LABS_ATTACKER_URL"))


@bp.get("/<lab_id>")
def lab(lab_id: str):
    """One lab: the story and its two runs."""
    return render_template("labs/lab.html", lab=_lab(lab_id), variants=VARIANTS)


@bp.get("/<lab_id>/<variant>")
def run_page(lab_id: str, variant: str):
    """A run of the lab under one variant: steps, trace, verdict."""
    lab = _lab(lab_id, variant)
    run = _run(lab_id, variant)
    verdict = _labs().actions(lab_id).succeeded(run) if run else None
    if run:
        progress.observe(run, verdict)
    attacker = app_config().get("LABS_ATTACKER_URL")
    explain = getattr(_labs().actions(lab_id), "detail", None)
    key = explain(run) if explain and verdict is not None else None
    outcome = "succeeded" if verdict else "failed"
    return render_template(
        "labs/run.html", lab=lab, variant=lab.variants[variant], run=run,
        verdict=verdict, attacker=attacker and run and
        f"{attacker}/labs/{lab_id}/{run.id}", detail_key=key,
        detail=key and lab.details.get(outcome, {}).get(key))


@bp.post("/<lab_id>/<variant>/start")
def start(lab_id: str, variant: str):
    """A fresh run; the lab's module may let the attacker prepare first."""
    lab = _lab(lab_id, variant)
    origin = request.host_url.rstrip("/")
    run = _labs().store.new(
        lab=lab_id, variant=variant, browser=browser_id(create=True), origin=origin,
        backchannel=app_config().get("SANDBOX_BACKCHANNEL_URL") or origin,
        redirect_base=app_config().get("LABS_ATTACKER_URL", "")
        if lab.redirect_to == "attacker" else "")
    prepare = getattr(_labs().actions(lab_id), "prepare", None)
    if prepare:
        prepare(run, lab, app_config())
    _labs().store.save(run)
    session["lab_runs"] = {**session.get("lab_runs", {}), f"{lab_id}/{variant}": run.id}
    return _back(lab_id, variant)


@bp.get("/<lab_id>/<variant>/login")
def login(lab_id: str, variant: str):
    """The lab client's "Sign in with the sandbox" (RFC 6749 §4.1.1)."""
    _lab(lab_id, variant)
    run = _run(lab_id, variant) or abort(404)
    begin = getattr(_labs().actions(lab_id), "start_login", client.start_login)
    url = begin(run, _lab(lab_id), app_config())
    answer = Message("HTTP/1.1 302 Found", [("Location", url)])
    run.record("authorize", "victim", "front", Exchange(
        incoming().message, answer, url=request.url))
    _labs().store.save(run)
    return redirect(url, 302)


@bp.get("/<lab_id>/<variant>/callback")
def callback(lab_id: str, variant: str):
    """The lab client's redirect URI: what it does depends on the variant."""
    lab = _lab(lab_id, variant)
    run = _run(lab_id, variant)
    if run is None:
        abort(400, description="No lab run in this browser: start one first.")
    finish = getattr(_labs().actions(lab_id), "finish_login", client.finish_login)
    page = finish(run, lab, app_config(), incoming())
    _labs().store.save(run)
    return respond(page) if page else _back(lab_id, variant)  # a lab's own page


@bp.post("/<lab_id>/<variant>/recheck")
def recheck(lab_id: str, variant: str):
    """The lab client uses its access token again (a lab's ``recheck`` action)."""
    lab = _lab(lab_id, variant)
    run = _run(lab_id, variant) or abort(404)
    action = getattr(_labs().actions(lab_id), "recheck", None) or abort(404)
    missing = action(run, lab, app_config())
    if missing:  # nothing sent: say what the step needs first
        step = next(s for s in lab.steps if s.get("action") == "recheck")
        flash(step["missing"][missing], "error")
    _labs().store.save(run)
    return _back(lab_id, variant)


@bp.get("/<lab_id>/<variant>/api/v1/<endpoint>")
def api(lab_id: str, variant: str, endpoint: str):
    """The lab's own weak API, for a variant with ``api = "lab"`` (no session: a
    resource server knows its callers by their tokens)."""
    lab = _lab(lab_id, variant)
    return respond(resource.serve(lab, variant, endpoint, app_config(), incoming()))


@bp.post("/<lab_id>/<run_id>/app/<endpoint>")
@csrf_exempt
def client_app(lab_id: str, run_id: str, endpoint: str):
    """The lab client's own server API (a lab's ``app``), called by its app and by
    the attacker's scripts alike: no session, no form token; the run is named in
    the path, as the attacker's pages name theirs."""
    lab = _lab(lab_id)
    run = _labs().store.get(run_id)
    answer = getattr(_labs().actions(lab_id), "app", None)
    if run is None or run.lab != lab_id or answer is None:
        abort(404)
    response = answer(run, lab, endpoint, app_config(), incoming())
    _labs().store.save(run)
    return respond(response)
