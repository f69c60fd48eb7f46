"""The live runner's pages: start a run, step through it, receive the callback."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import get_template_attribute
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from .. import outbound
from .. import providers
from ..content import get_content
from ..content import render_markdown
from ..highlight import highlight
from ..redact import Redactor
from ..runner import engine
from ..runner import store
from ..runner.actions import NEEDS
from ..runner.flows import options_from
from ..runner.flows import pkce_offered
from ..runner.present import diagram
from ..runner.present import kept_step_parts
from ..runner.present import sequence_html
from .providers import browser_id
from .providers import current_choice
from .providers import redirect_uri
from .providers import remote_requester
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


def load_run(run_id: str):
    """The caller's run, or a 404 that says why it may be missing."""
    run = store.load(run_id, browser_id() or "")
    if run is None:
        abort(404, description="This run does not exist, has expired (runs last a "
              "day) or was started in another browser.")
    return run


def run_flow(run):
    """The run's flow, as chosen, as its provider can do it, told as it went."""
    flow = _flow(run.flow).with_options(run.options)
    return flow.for_provider(run.provider, NEEDS).explained(run.steps)


def _context(run, flow) -> engine.Context:
    provider = providers.here(run.provider, current_app.config)
    return engine.Context(
        provider=provider,
        client_id=provider["clients"][flow.client],
        client_secret=providers.client_secret(provider, flow.client,
                                              current_app.config,
                                              secret_for(provider)),
        redirect_uri=run.secrets.get("redirect_uri") or redirect_uri(provider),
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
                           pkce_offered=pkce_offered(choice.provider),
                           refused=offered.get(flow.id),
                           redirect_uri=redirect_uri(choice.provider),
                           texts=get_content().data("runner"), md=render_markdown)


@bp.post("/run/<flow_id>")
def start(flow_id: str):
    flow = _flow(flow_id)
    choice, offered = _offered()
    if offered.get(flow.id):
        flash(f"{flow.name} cannot run here: {offered[flow.id]}", "error")
        return redirect(url_for(".start_page", flow_id=flow.id), 303)
    run = store.create(browser_id(create=True), flow.id, choice.provider,
                       options_from(flow, request.form, choice.provider))
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
        # Another machine's own provider: this server fetches public addresses only.
        typed_in = run.provider["kind"] == "discovered"
        with outbound.limits(current_app.config["HTTP_DEADLINE"],
                             typed_in and remote_requester()):
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
    steps = diagram(flow, run, viewing if run.steps else -1)
    label = f"Sequence diagram of the {flow.name} flow"
    return render_template(
        "runner/step.html", run=run, flow=flow, viewing=viewing, record=record,
        parts=kept_step_parts(run, viewing, glossary, redact), redact=redact,
        reveal=reveal, md=render_markdown, pending=engine.pending(run, flow),
        texts=get_content().data("runner"),
        diagram=steps, diagram_html=sequence_html(
            steps, label, get_template_attribute("_sequence.html", "sequence")),
    )
