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
from flowlab.core.storage.db import LAB
from flowlab.labs import catalogue
from flowlab.labs import client
from flowlab.labs import progress
from flowlab.labs import resource
from flowlab.labs import weak
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
    """The lab; with ``variant``, one it has (vulnerable, defended, and "yours" for
    a lab a weak server's switch opens)."""
    lab = _labs().catalogue.get(lab_id)
    if lab is None or (variant is not None and variant not in lab.variants):
        abort(404)
    return lab


def _weak_server(run=None):
    """This browser's saved weak server, or the one ``run`` started with."""
    if run is not None:
        return weak.get(LAB.get(), run.client.get("weak_server", ""))
    return weak.latest(LAB.get(), browser_id())


def _run(lab_id: str, variant: str):
    """This browser's current run of the lab variant, if any: its lab runs hang on
    its browser id, as its runs and its nickname do (the room's scoreboard)."""
    run_id = session.get("lab_runs", {}).get(f"{lab_id}/{variant}")
    run = _labs().store.get(run_id)
    return run if run and run.browser == browser_id() else None


def _started(lab_id: str, variant: str):
    """This browser's run, or 400: a lab client's page needs a run to belong to."""
    run = _run(lab_id, variant)
    if run is None:
        abort(400, description="No lab run in this browser: start one first.")
    return run


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
    """One lab: the story and its two runs, and a third against the learner's
    weak server when one of its switches opens the lab."""
    return render_template("labs/lab.html", lab=_lab(lab_id), variants=VARIANTS,
                           weak_server=_weak_server())


@bp.get("/<lab_id>/<variant>")
def run_page(lab_id: str, variant: str):
    """A run of the lab under one variant: steps, trace, verdict."""
    lab = _lab(lab_id, variant)
    run = _run(lab_id, variant)
    actions = _labs().actions(lab_id)
    verdict = actions.succeeded(run) if run else None
    if run:
        progress.observe(run, verdict)
    attacker = app_config().get("LABS_ATTACKER_URL")
    resend = getattr(actions, "resend_form", None)
    yours = _weak_server(run) if variant == weak.YOURS else None
    explain = getattr(actions, "detail", None)
    key = explain(run) if explain and verdict is not None else None
    outcome = "succeeded" if verdict else "failed"
    return render_template(
        "labs/run.html", lab=lab, variant=lab.variants[variant], run=run,
        verdict=verdict, attacker=attacker and run and
        f"{attacker}/labs/{lab_id}/{run.id}", weak_server=yours,
        resend=resend(run, lab) if resend and run else None,
        switches=_labs().switches, deciding=yours and _labs().switches.deciding(
            lab_id, yours.switches, verdict), detail_key=key,
        detail=key and lab.details.get(outcome, {}).get(key))


@bp.post("/<lab_id>/<variant>/start")
def start(lab_id: str, variant: str):
    """A fresh run; the lab's module may let the attacker prepare first."""
    lab = _lab(lab_id, variant)
    origin = request.host_url.rstrip("/")
    own = {}  # a run against the learner's server: its configuration's client
    if variant == weak.YOURS:
        saved = _weak_server() or abort(redirect("/weak-server", 303))
        _labs().register_weak(lab, saved.id)
        own = {"weak_server": saved.id}
    run = _labs().store.new(
        lab=lab_id, variant=variant, browser=browser_id(create=True), origin=origin,
        backchannel=app_config().get("SANDBOX_BACKCHANNEL_URL") or origin,
        redirect_base=app_config().get("LABS_ATTACKER_URL", "")
        if lab.redirect_to == "attacker" else "", client=own)
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
    run = _started(lab_id, variant)
    finish = getattr(_labs().actions(lab_id), "finish_login", client.finish_login)
    page = finish(run, lab, app_config(), incoming())
    _labs().store.save(run)
    return respond(page) if page else _back(lab_id, variant)  # a lab's own page


@bp.get("/<lab_id>/<variant>/page/<name>")
def client_page(lab_id: str, variant: str, name: str):
    """Another page of the lab client's site (the lab's ``client_page``: a proxy
    page, a redirector, that a path-traversal redirect URI lands on)."""
    lab = _lab(lab_id, variant)
    page = getattr(_labs().actions(lab_id), "client_page", None) or abort(404)
    run = _started(lab_id, variant)
    answer = page(run, lab, name, app_config(), incoming())
    _labs().store.save(run)
    return respond(answer)


@bp.post("/<lab_id>/<variant>/callback")
def callback_post(lab_id: str, variant: str):
    """A form the lab client's own page posts back to its redirect URI (the lab's
    ``finish_post``: a sign-in page's script sending what it read)."""
    lab = _lab(lab_id, variant)
    finish = getattr(_labs().actions(lab_id), "finish_post", None) or abort(405)
    run = _started(lab_id, variant)
    page = finish(run, lab, app_config(), incoming())
    _labs().store.save(run)
    return respond(page)


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
    return respond(resource.serve(lab, variant, endpoint, app_config(), incoming(),
                                  _labs().switches))


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
