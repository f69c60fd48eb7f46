"""A run's orchestration: open it, find its flow as chosen, the settings each step
talks with, its redactor, and the steps Next and the redirect back run.

The views only translate between Flask and these functions: what the browser chose
and which secret it holds come in as arguments, pages go out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .. import outbound
from .. import providers
from ..exchange import Message
from ..profiles import Provider
from ..redact import Redactor
from . import engine
from . import store
from .flows import Flow
from .flows import options_from
from .store import Run

GRACE = 1.0  # seconds a poll may be held for, rather than refused as too early
MISSING = ("This run does not exist, has expired (runs last a day) or was started "
           "in another browser.")


def flows() -> dict[str, Flow]:
    """Every flow the lab runs, by id (``runner.flows.load_flows``)."""
    return current_app.extensions["flows"]


def load(run_id: str, owner: str | None) -> Run | None:
    """The owner's run, if it exists, has not expired and its flow is still here."""
    run = store.load(run_id, owner or "")
    return run if run is not None and run.flow in flows() else None


def flow_of(run: Run) -> Flow:
    """The run's flow, as chosen, as its provider can do it, told as it went."""
    flow = flows()[run.flow].with_options(run.options)
    return flow.for_provider(run.provider).explained(run.steps)


def open_run(owner: str, flow: Flow, provider: Provider, form) -> Run:
    """Start a run of ``flow`` with the options the start form chose."""
    return store.create(owner, flow.id, provider, options_from(flow, form, provider))


def context(run: Run, flow: Flow, secret_for: Callable[[Provider], str | None],
            redirect_uri: Callable[[Provider], str]) -> engine.Context:
    """Where and as whom the run's steps talk: its provider as this process reaches
    it, the flow's client, the secret the browser holds, the callback."""
    provider = providers.here(run.provider, current_app.config)
    return engine.Context(
        provider=provider,
        client_id=provider.clients[flow.client],
        client_secret=providers.client_secret(provider, flow.client,
                                              current_app.config,
                                              secret_for(provider)),
        redirect_uri=run.secrets.get("redirect_uri") or redirect_uri(provider),
        scope=flow.scope if provider.scope is None else provider.scope,
        timeout=current_app.config["HTTP_TIMEOUT"],
    )


def redactor(run: Run, ctx: engine.Context, reveal: bool) -> Redactor:
    """Masks every secret of the run, the client secret included."""
    return Redactor.for_run(run, {ctx.client_secret or ""}, reveal)


def lacks_secret(flow: Flow, ctx: engine.Context) -> bool:
    """A confidential client's run whose secret the server no longer holds."""
    return flow.client == "confidential" and not ctx.client_secret


def next_step(run: Run, flow: Flow, ctx: engine.Context, remote: bool,
              at: int | None = None) -> tuple[str, dict] | None:
    """Run the pending step once, unless another request is running it or the click
    came from a page showing fewer steps done (``at``) than the run has: a second
    click on the same Next, landing after the first finished, changes nothing. A
    typed-in provider is reached on public addresses only when ``remote`` asks.

    What the page should say, if anything: the name of a text in the runner's
    ``[faults]`` content and its values."""
    if at is not None and at != len(run.steps):
        return None
    wait = engine.ready_at(run, flow) - time.time()
    if wait > GRACE:  # too soon to poll (RFC 8628 §3.5): nothing is sent
        return "too_early", {"wait": math.ceil(wait)}
    taken = store.claim(run)
    if not taken:  # a second click while another request runs the step
        return ("running", _when(taken)) if taken.since else None
    saved, said = False, None
    try:
        if engine.spent(run, flow):  # the page offers to sign in again
            return None
        typed_in = run.provider.kind == "discovered"
        with outbound.limits(current_app.config["HTTP_DEADLINE"], typed_in and remote):
            answered = engine.advance(run, flow, ctx)
        saved = answered and store.save(run)
        said = None if saved else ("cut_off" if not answered else "not_saved", {})
    except SQLAlchemyError:
        current_app.logger.exception("The outcome of run %s's step was not saved",
                                     run.id)
        said = "not_saved", {}
    finally:
        store.let_go(run, taken, saved)
    # A step that spent its code: the page itself says what happened, and the way on.
    return None if said and engine.spends(run, flow) else said


def sign_in_again(run: Run, flow: Flow) -> bool:
    """Take a run whose cut-off step spent its code back to its authorization
    request (``engine.sign_in_again``), if that is still where it stands."""
    if not engine.spent(run, flow) or not engine.sign_in_again(run, flow):
        return False
    return store.save(run, unclaim=True)


def _when(taken: store.Claim) -> dict:
    now = time.time()
    return {"since": max(round(now - taken.since), 0),
            "wait": max(math.ceil(taken.free_at - now), 1)}


def receive(run: Run, received: Message, pairs: list[tuple[str, str]],
            url: str) -> None:
    """Record the redirect back from the authorization server and keep the run."""
    engine.receive_redirect(run, flow_of(run), received, pairs, url)
    store.save(run)


def awaiting_fragment(runs: list[Run]) -> list[Run]:
    """The runs whose waiting step takes its answer from the fragment."""
    return [run for run in runs
            if run.flow in flows() and engine.awaiting(run, flow_of(run)) == "fragment"]
