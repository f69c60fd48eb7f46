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
from .providers import browser_id
from .providers import current_choice
from .providers import redirect_uri
from .providers import secret_for

bp = Blueprint("runner", __name__)
NOT_RECORDED = "(this browser's session cookie: not recorded)"


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


def load_run(run_id: str):
    """The caller's run, or a 404 that says why it may be missing."""
    run = store.load(run_id, browser_id() or "")
    if run is None:
        abort(404, description="This run does not exist, has expired (runs last a "
              "day) or was started in another browser.")
    return run


def run_flow(run):
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


def redactor(run, flow, reveal: bool) -> Redactor:
    """Masks every secret of the run, the client secret included."""
    return Redactor.for_run(run, {_context(run, flow).client_secret or ""}, reveal)


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
    run = load_run(run_id)
    flow = run_flow(run)
    ctx = _context(run, flow)
    if flow.client == "confidential" and not ctx.client_secret:
        flash("This run needs the client secret, and the server no longer has it (it "
              "forgets it after an idle hour, on Forget, or on restart). Enter it "
              "again on the provider page, then click Next.", "error")
    elif store.claim(run):  # a second click while this one runs changes nothing
        engine.advance(run, flow, ctx)
        store.save(run)
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.get("/runs/<run_id>")
def show(run_id: str):
    run = load_run(run_id)
    flow = run_flow(run)
    last = max(len(run.steps) - 1, 0)
    viewing = min(max(request.args.get("step", last + 1, type=int) - 1, 0), last)
    reveal = request.args.get("reveal") == "1"
    redact = redactor(run, flow, reveal)
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
    waiting = store.waiting(browser_id())
    pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    if not pairs:  # the implicit grant: the answer is in the fragment
        return _fragment_page([r for r in waiting if r.flow == "implicit"])
    run = engine.match_state(waiting, dict(pairs).get("state"))
    if run is None and len(waiting) != 1:
        return render_template("runner/no_run.html", waiting=waiting), 400
    run = run or waiting[0]  # the one waiting run: the mismatch is shown in it
    engine.receive_redirect(run, run_flow(run), _received_request(), pairs,
                            request.base_url)
    store.save(run)
    return redirect(url_for(".show", run_id=run.id, _anchor="main"), 303)


def _fragment_page(runs: list):
    """A page whose script reads the fragment: every waiting implicit run keeps the
    request that brought the browser here, to show it without the fragment."""
    if not runs:
        return render_template("runner/no_run.html"), 400
    for run in runs:
        run.secrets["callback_request"] = asdict(_received_request())
        store.save(run)
    return render_template("runner/fragment.html", texts=get_content().data("runner"),
                           md=render_markdown)


@bp.post(CALLBACK_PATH + "/fragment")
def fragment():
    """Receive the fragment that the callback page's script read (implicit grant).

    The script sends the CSRF token in a header; the app-wide check covers it.
    """
    data = request.get_json(silent=True)
    text = data.get("fragment") if isinstance(data, dict) else None
    if not isinstance(text, str):
        abort(400, description="Expected JSON with the fragment as a string.")
    pairs = parse_qsl(text, keep_blank_values=True)
    waiting = [r for r in store.waiting(browser_id())
               if "callback_request" in r.secrets]
    run = engine.match_state(waiting, dict(pairs).get("state"))
    if run is None and len(waiting) != 1:
        abort(400, description="No implicit-grant run is waiting for this fragment.")
    run = run or waiting[0]
    received = Message(**run.secrets.pop("callback_request"))
    engine.receive_redirect(run, run_flow(run), received, pairs,
                            request.url_root.rstrip("/") + CALLBACK_PATH)
    store.save(run)
    return {"next": url_for(".show", run_id=run.id)}


def _received_request() -> Message:
    """The callback request as this server received it; the session cookie, which
    would let anyone act as this browser, is left out."""
    env = request.environ
    target = env.get("RAW_URI") or env.get("REQUEST_URI") or request.full_path
    start = f"{request.method} {target.rstrip('?')} {env.get('SERVER_PROTOCOL')}"
    headers = [(name, NOT_RECORDED if name.lower() == "cookie" else value)
               for name, value in request.headers.items()]
    return Message(start, headers, "")
