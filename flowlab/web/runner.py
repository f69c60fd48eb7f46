"""The live runner's pages: start a run, step through it, receive the callback."""

from __future__ import annotations

import json
import math
import time
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from flowlab.core import providers
from flowlab.core.content import render_markdown
from flowlab.core.highlight import highlight
from flowlab.core.runner import claims
from flowlab.core.runner import clientdoc
from flowlab.core.runner import engine
from flowlab.core.runner import imported
from flowlab.core.runner import orchestrate
from flowlab.core.runner import stamps
from flowlab.core.runner import store
from flowlab.core.runner.flows import pkce_offered
from flowlab.web import stepcache
from flowlab.web import steppage
from flowlab.web.providers import current_choice
from flowlab.web.providers import redirect_uri
from flowlab.web.providers import remote_requester
from flowlab.web.providers import secret_for
from flowlab.web.session import addresses
from flowlab.web.session import browser_id
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("runner", __name__)


def highlight_http(text: str):
    """An HTTP message highlighted by Pygments' HTTP lexer (body by Content-Type)."""
    return highlight(text, "http")


@bp.before_request
def _no_localhost():
    """Spotify refuses ``localhost`` redirect URIs; move to the loopback literal."""
    host = request.host.lower()
    if "localhost" not in host and "%" not in host:  # most requests: no URL built
        return None
    parts = urlsplit(request.url)
    if parts.hostname == "localhost":
        netloc = parts.netloc.replace("localhost", "127.0.0.1", 1)
        return redirect(urlunsplit(parts._replace(netloc=netloc)), 307)


def _flow(flow_id: str):
    flow = runner().flows.get(flow_id)
    if flow is None:
        abort(404, description=f"There is no flow called “{flow_id}”.")
    return flow


def load_run(run_id: str):
    """The caller's run, or a 404 that says why it may be missing."""
    run = runner().load(run_id, browser_id(), secret_box())
    if run is None:
        abort(404, description=orchestrate.MISSING)
    return run


def context(run, flow) -> engine.Context:
    """The run's step settings, with what this browser holds (secret, address)."""
    return runner().context(run, flow, secret_for, redirect_uri)


def _offered() -> tuple:
    """The browser's provider and, per flow, None or why it cannot run there."""
    choice = current_choice()
    reasons = get_content().data("providers")["reasons"]
    return choice, providers.offered(choice.provider, bool(choice.secret), reasons,
                                     runner().flows.values())


@bp.get("/run/")
def index():
    owner = browser_id()
    choice, offered = _offered()
    return render_template("runner/index.html", flows=runner().flows.values(),
                           runs=store.owned(owner, box=secret_box()) if owner else [],
                           provider=choice.provider, offered=offered)


@bp.get(clientdoc.PATH)
def client_document():
    """The MCP agent's client ID metadata document, which a server fetches when it
    meets this URL as a ``client_id`` (draft-ietf-oauth-client-id-metadata-document)."""
    body = json.dumps(clientdoc.document(request.host_url, get_content()), indent=2)
    return Response(body, mimetype="application/json")


@bp.get("/run/<flow_id>")
def start_page(flow_id: str):
    choice, offered = _offered()
    flow = _flow(flow_id).for_provider(choice.provider)
    return render_template("runner/start.html", flow=flow, provider=choice.provider,
                           pkce_offered=pkce_offered(choice.provider),
                           refused=offered.get(flow.id),
                           redirect_uri=redirect_uri(choice.provider),
                           run_as=request.args.get("run_as"),
                           texts=get_content().data("runner"), md=render_markdown)


@bp.post("/run/<flow_id>")
def start(flow_id: str):
    flow = _flow(flow_id)
    choice, offered = _offered()
    if offered.get(flow.id):
        flash(f"{flow.name} cannot run here: {offered[flow.id]}", "error")
        return redirect(url_for(".start_page", flow_id=flow.id), 303)
    run = runner().open_run(browser_id(create=True), flow, choice.provider,
                               request.form)
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.post("/runs/<run_id>/next")
def next_step(run_id: str):
    run = load_run(run_id)
    flow = runner().flow_of(run)
    ctx = context(run, flow)
    if orchestrate.lacks_secret(flow, ctx):
        flash("This run needs the client secret, and the server no longer has it (it "
              "forgets it after an idle hour, on Forget, or on restart). Enter it "
              "again on the provider page, then click Next.", "error")
    else:  # another machine's own provider: fetch public addresses only
        said = runner().next_step(run, flow, ctx, remote_requester(), secret_box(),
                                  request.form.get("at", type=int))
        if said and said[0] == "too_early":  # RFC 8628 §3.5: nothing was sent
            text = get_content().data("runner")["poll"]["too_early"]
            flash(text.format(**said[1]), "warning")
        elif said:
            flash(_fault(said[0], **said[1]), "error")
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.post("/runs/<run_id>/again")
def sign_in_again(run_id: str):
    """A step cut off after it may have spent the code: back to the authorization
    request, to sign in again from there."""
    run = load_run(run_id)
    if runner().sign_in_again(run, runner().flow_of(run), secret_box()):
        flash(_fault("signed_in_again"), "success")
    return redirect(url_for(".show", run_id=run.id), 303)


@bp.post("/runs/<run_id>/wrap-up")
def wrap_up(run_id: str):
    """Introspect and revoke the run's token, as steps after its own (RFC 7662,
    RFC 7009); a run that cannot take them is left as it was."""
    run = load_run(run_id)
    runner().wrap_up(run, runner().flow_of(run), secret_box())
    return redirect(url_for(".show", run_id=run.id), 303)


def _fault(name: str, **values) -> str:
    """A text of the runner's ``[faults]`` content, on one line, values filled in."""
    text = get_content().data("runner")["faults"][name]
    return " ".join(text.split()).format(**values)


@bp.get("/runs/<run_id>")
def show(run_id: str):
    """A run's step page: kept pages are looked up by the run's stamp, before its
    steps are loaded (``stepcache``); a real provider's run, whose secrets are not
    in its row, only once it is loaded."""
    stamp = runner().stamp(run_id, browser_id())
    if stamp is None:
        abort(404, description=orchestrate.MISSING)
    reveal = request.args.get("reveal") == "1"
    page = stepcache.kept(stepcache.key(stamp, reveal=reveal)) if stamp.whole else None
    if page is None:
        run = load_run(run_id)
        page = _page(run, reveal, None, imported.origin(run), stamp.branches)
    if session.get("viewing") != page.seen:  # the presenter view follows this page
        session["viewing"] = list(page.seen)  # a copy: the kept one stays
    return page.html


def _viewing(run) -> int:
    """The index of the step the page asks for (``?step=``), else the latest."""
    last = max(len(run.steps) - 1, 0)
    return min(max(request.args.get("step", last + 1, type=int) - 1, 0), last)


def step_page(run, reveal: bool = False, shared: str | None = None,
              origin: dict | None = None) -> str:
    """A run's step page, without its branches. Read only for an imported run
    (``origin``) or a shared one (``shared``, its link's token): no Next, no
    action. A shared page masks every secret, offers no way to reveal one, and
    holds none of the run's own."""
    return _page(run, reveal, shared, origin, {}).html


def _page(run, reveal: bool, shared: str | None, origin: dict | None,
          branches: dict) -> stepcache.Page:
    """The step page, kept once rendered, for this browser, while it would render
    the same (``stepcache``); not while it follows the clock (a countdown, a claim
    that may be running)."""
    flow = runner().flow_of(run)
    viewing = _viewing(run)
    read_only = bool(shared or origin)
    ctx = context(run, flow)
    reveal = reveal and not read_only
    shown = {"pending": None if read_only else engine.pending(run, flow),
             "spent": not read_only and runner().spent(run, flow),
             "branches": branches, "where": addresses(run), "origin": origin}
    ready_in = math.ceil(max(engine.ready_at(run, flow) - time.time(), 0))
    held = None if run.on_disk_whole else [run.secrets, ctx.client_secret]
    page_key = None if ready_in or not claims.settled(run) else stepcache.key(
        stamps.of(run, branches), shared=shared, reveal=reveal, held=held)
    return stepcache.kept(page_key) or stepcache.keep(page_key, stepcache.Page(
        steppage.render(run, flow, viewing, ctx, reveal, shared, ready_in, shown),
        [run.id, viewing + 1 if run.steps else 0]))
