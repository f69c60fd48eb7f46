"""The live runner's pages: start a run, step through it, receive the callback."""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import parse_qsl
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from .. import providers
from ..content import get_content
from ..content import render_markdown
from ..demo import CALLBACK_PATH
from ..exchange import Message
from ..highlight import highlight
from ..runner import engine
from ..runner import store
from ..runner.actions import NEEDS
from ..runner.present import Redactor
from ..runner.present import diagram
from ..runner.present import step_parts
from ..security import constant_time_equal
from ..security import csrf_exempt
from .providers import browser_id
from .providers import current_choice
from .providers import redirect_uri
from .providers import secret_for

bp = Blueprint("runner", __name__)


@bp.app_template_filter("highlight_http")
def highlight_http(text: str):
    """An HTTP message highlighted by Pygments' HTTP lexer (body by Content-Type)."""
    return highlight(text, "http")


@bp.before_request
def _no_localhost():
    """Spotify refuses ``localhost`` redirect URIs; move to the loopback literal."""
    parts = urlsplit(request.url)
    if parts.hostname == "localhost":
        netloc = parts.netloc.replace("localhost", "127.0.0.1", 1)
        return redirect(urlunsplit(parts._replace(netloc=netloc)), 307)


def _flows() -> dict:
    return current_app.extensions["flows"]


def _flow(flow_id: str):
    flow = _flows().get(flow_id)
    if flow is None:
        abort(404, description=f"There is no flow called “{flow_id}”.")
    return flow


def _run(run_id: str):
    run = store.load(run_id, browser_id() or "")
    if run is None:
        abort(404, description="This run does not exist, has expired (runs last a "
              "day) or was started in another browser.")
    return run


def _run_flow(run):
    """The run's flow, as its provider can do it."""
    return _flow(run.flow).for_provider(run.provider, NEEDS)


def _context(run, flow) -> engine.Context:
    provider = run.provider
    return engine.Context(
        provider=provider,
        client_id=provider["clients"][flow.client],
        client_secret=providers.client_secret(provider, flow.client,
                                              current_app.config,
                                              secret_for(provider)),
        redirect_uri=run.secrets.get("redirect_uri") or redirect_uri(),
        scope=provider["scope"] if "scope" in provider else flow.scope,
        timeout=current_app.config["HTTP_TIMEOUT"],
    )


def _offered() -> tuple:
    """The browser's provider and, per flow, None or why it cannot run there."""
    choice = current_choice()
    reasons = get_content().data("providers")["reasons"]
    return choice, providers.offered(choice.provider, bool(choice.secret), reasons)


@bp.get("/run/")
def index():
    owner = browser_id()
    choice, offered = _offered()
    return render_template("runner/index.html", flows=_flows().values(),
                           runs=store.owned(owner) if owner else [],
                           provider=choice.provider, offered=offered)


@bp.get("/run/<flow_id>")
def start_page(flow_id: str):
    choice, offered = _offered()
    flow = _flow(flow_id).for_provider(choice.provider, NEEDS)
    return render_template("runner/start.html", flow=flow, provider=choice.provider,
                           refused=offered.get(flow.id), redirect_uri=redirect_uri())


@bp.post("/run/<flow_id>")
def start(flow_id: str):
    flow = _flow(flow_id)
    choice, offered = _offered()
    if offered.get(flow.id):
        flash(f"{flow.name} cannot run here: {offered[flow.id]}", "error")
        return redirect(url_for(".start_page", flow_id=flow.id), 303)
    run = store.create(browser_id(create=True), flow.id, choice.provider)
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.post("/runs/<run_id>/next")
def next_step(run_id: str):
    run = _run(run_id)
    flow = _run_flow(run)
    ctx = _context(run, flow)
    if flow.client == "confidential" and not ctx.client_secret:
        flash("This run needs the client secret, and the server no longer has it (it "
              "forgets it after an idle hour, on Forget, or on restart). Enter it "
              "again on the provider page, then click Next.", "error")
    else:
        engine.advance(run, flow, ctx)
        store.save(run)
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.get("/runs/<run_id>")
def show(run_id: str):
    run = _run(run_id)
    flow = _run_flow(run)
    last = max(len(run.steps) - 1, 0)
    viewing = min(max(request.args.get("step", last + 1, type=int) - 1, 0), last)
    reveal = request.args.get("reveal") == "1"
    ctx = _context(run, flow)
    redact = Redactor.for_run(run, {ctx.client_secret or ""}, reveal)
    glossary = get_content().data("glossary")
    record = run.steps[viewing] if run.steps else None
    return render_template(
        "runner/step.html", run=run, flow=flow, viewing=viewing, record=record,
        parts=step_parts(record, run.flow, glossary, redact), redact=redact,
        reveal=reveal, md=render_markdown, pending=engine.pending(run, flow),
        texts=get_content().data("runner"),
        diagram=diagram(flow, run, viewing if run.steps else -1),
    )


@bp.get(CALLBACK_PATH)
def callback():
    """Step: the browser comes back from the authorization server (RFC 6749 §4.1.2)."""
    waiting = _waiting()
    if not waiting:
        return render_template("runner/no_run.html"), 400
    params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
    received = _received_request()
    if not params:
        run = waiting[0]
        if run.flow == "implicit":
            run.secrets["callback_request"] = asdict(received)
            store.save(run)
            return render_template("runner/fragment.html", run=run,
                                   texts=get_content().data("runner"),
                                   md=render_markdown)
    run = _match_state(waiting, params.get("state"))
    engine.receive_redirect(run, _run_flow(run), received, params, request.url)
    store.save(run)
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.post(CALLBACK_PATH + "/fragment")
@csrf_exempt
def fragment():
    """Receive the fragment that the callback page's script read (implicit grant)."""
    if not constant_time_equal(request.headers.get("X-CSRF-Token", ""),
                               session.get("csrf", "") or "-"):
        abort(400, description="The fragment did not come from this site's page.")
    params = dict(parse_qsl((request.get_json(silent=True) or {}).get("fragment", "")))
    waiting = _waiting()
    run = _match_state(waiting, params.get("state")) if waiting else None
    stored = run.secrets.pop("callback_request", None) if run else None
    if stored is None:
        abort(400, description="No implicit-grant run is waiting for a fragment.")
    engine.receive_redirect(run, _run_flow(run), Message(**stored), params,
                            request.url_root.rstrip("/") + CALLBACK_PATH)
    store.save(run)
    return {"next": url_for(".show", run_id=run.id)}


def _waiting() -> list:
    """This browser's runs that wait for the authorization server's redirect."""
    owner = browser_id()
    return [r for r in store.owned(owner) if r.awaiting_browser] if owner else []


def _match_state(waiting: list, state: str | None):
    """The waiting run that sent ``state``; else the newest, which will then fail."""
    for run in waiting:
        if state and constant_time_equal(state, run.secrets.get("state", "")):
            return run
    return waiting[0]


def _received_request() -> Message:
    """The callback request as this server received it."""
    env = request.environ
    target = env.get("RAW_URI") or env.get("REQUEST_URI") or request.full_path
    start = f"{request.method} {target.rstrip('?')} {env.get('SERVER_PROTOCOL')}"
    return Message(start, list(request.headers.items()), "")
