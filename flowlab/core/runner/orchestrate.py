"""A run's orchestration: open it, find its flow as chosen, the settings each step
talks with, its redactor, and the steps Next and the redirect back run.

The views only translate between Flask and a ``Runner``: what the browser chose,
which secret it holds and the box its run secrets are sealed in come in as
arguments, pages go out. The runner itself is built once from the app's config
(``flowlab.core.services``): its flows, its settings, and the config mapping that says
where this process reaches the sandbox.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError

from flowlab.core import outbound
from flowlab.core import providers
from flowlab.core.http import Message
from flowlab.core.provider import Provider
from flowlab.core.redact import Redactor
from flowlab.core.runner import claims
from flowlab.core.runner import engine
from flowlab.core.runner import stamps
from flowlab.core.runner import store
from flowlab.core.runner import tokenlife
from flowlab.core.runner.flows import Flow
from flowlab.core.runner.flows import options_from
from flowlab.core.runner.settings import RunSettings
from flowlab.core.runner.store import Run
from flowlab.core.secrets import SecretBox

GRACE = 1.0  # seconds a poll may be held for, rather than refused as too early
MISSING = ("This run does not exist, has expired (runs last a day) or was started "
           "in another browser.")
log = logging.getLogger("flowlab")  # the app's own logger (Flask names it so)


class Runner:
    """The live runner: every flow the lab runs, by id (``runner.flows.load_flows``),
    its settings, and the config that says where this process reaches a provider
    (read at each run: the back channel's address is set once serving starts)."""

    def __init__(self, flows: dict[str, Flow], settings: RunSettings,
                 config: Mapping) -> None:
        self.flows = flows
        self.settings = settings
        self.config = config

    def load(self, run_id: str, owner: str | None,
             box: SecretBox | None = None) -> Run | None:
        """The owner's run, if it exists, has not expired and its flow is still
        here; its secrets opened from ``box``."""
        run = store.load(run_id, owner or "", box)
        return run if run is not None and run.flow in self.flows else None

    def stamp(self, run_id: str, owner: str | None) -> stamps.Stamp | None:
        """The stamp of the owner's run (``stamps``), on the terms of ``load``: one
        short row read, no steps."""
        found = stamps.stamp(run_id, owner or "")
        return found if found is not None and found.flow in self.flows else None

    def flow_of(self, run: Run) -> Flow:
        """The run's flow, as chosen, as its provider can do it, told as it went."""
        flow = self.flows[run.flow].with_options(run.options)
        return flow.for_provider(run.provider).explained(run.steps)

    def open_run(self, owner: str, flow: Flow, provider: Provider, form) -> Run:
        """Start a run of ``flow`` with the options the start form chose."""
        return store.create(owner, flow.id, provider,
                            options_from(flow, form, provider), self.settings.ttl)

    def context(self, run: Run, flow: Flow,
                secret_for: Callable[[Provider], str | None],
                redirect_uri: Callable[[Provider], str]) -> engine.Context:
        """Where and as whom the run's steps talk: its provider as this process
        reaches it, the flow's client, the secret the browser holds, the callback."""
        provider = providers.here(run.provider, self.config)
        held = None if provider.is_sandbox else secret_for(provider)  # demo values
        return engine.Context(
            provider=provider,
            client_id=provider.clients[flow.client],
            client_secret=providers.client_secret(provider, flow.client, self.config,
                                                  held),
            redirect_uri=run.secrets.get("redirect_uri") or redirect_uri(provider),
            scope=flow.scope if provider.scope is None else provider.scope,
            timeout=self.settings.timeout,
        )

    def spent(self, run: Run, flow: Flow) -> bool:
        """Whether the run's cut-off step spent its code (``engine.spent``)."""
        return engine.spent(run, flow, self.settings.stale_after)

    def next_step(self, run: Run, flow: Flow, ctx: engine.Context, remote: bool,
                  box: SecretBox | None, at: int | None = None
                  ) -> tuple[str, dict] | None:
        """Run the pending step once, unless another request is running it or the
        click came from a page showing fewer steps done (``at``) than the run has:
        a second click on the same Next, landing after the first finished, changes
        nothing. A typed-in provider is reached on public addresses only when
        ``remote`` asks. The run's secrets are sealed in ``box``.

        What the page should say, if anything: the name of a text in the runner's
        ``[faults]`` content and its values."""
        if at is not None and at != len(run.steps):
            return None
        wait = engine.ready_at(run, flow) - time.time()
        if wait > GRACE:  # too soon to poll (RFC 8628 §3.5): nothing is sent
            return "too_early", {"wait": math.ceil(wait)}
        taken = claims.claim(run, self.settings.stale_after)
        if not taken:  # a second click while another request runs the step
            return ("running", _when(taken)) if taken.since else None
        saved, said = False, None
        try:
            if self.spent(run, flow):  # the page offers to sign in again
                return None
            typed_in = run.provider.kind == "discovered"
            with outbound.limits(self.settings.deadline, typed_in and remote):
                interrupted = engine.advance(run, flow, ctx)
            saved = interrupted is None and store.save(run, box)
            said = None if saved else _interruption(interrupted)
        except SQLAlchemyError:
            log.exception("The outcome of run %s's step was not saved", run.id)
            said = "not_saved", {}
        finally:
            claims.let_go(run, taken, saved)
        # A step that spent its code: the page itself says what happened, the way on.
        return None if said and engine.spends(run, flow) else said

    def sign_in_again(self, run: Run, flow: Flow, box: SecretBox | None) -> bool:
        """Take a run whose cut-off step spent its code back to its authorization
        request (``engine.sign_in_again``), if that is still where it stands."""
        if not self.spent(run, flow) or not engine.sign_in_again(run, flow):
            return False
        return store.save(run, box, unclaim=True)

    def wrap_up(self, run: Run, flow: Flow, box: SecretBox | None) -> bool:
        """Open a finished run again with the introspect-and-revoke steps after its
        own (``tokenlife.offered``): Next runs them as any other step."""
        if not tokenlife.offered(run, flow):
            return False
        run.options["wrap_up"] = True
        run.status = "active"
        return store.save(run, box)

    def receive(self, run: Run, received: Message, pairs: list[tuple[str, str]],
                url: str, box: SecretBox | None) -> None:
        """Record the redirect back from the authorization server, keep the run."""
        engine.receive_redirect(run, self.flow_of(run), received, pairs, url)
        store.save(run, box)

    def awaiting_fragment(self, runs: list[Run]) -> list[Run]:
        """The runs whose waiting step takes its answer from the fragment."""
        return [run for run in runs if run.flow in self.flows
                and engine.awaiting(run, self.flow_of(run)) == "fragment"]


def redactor(run: Run, ctx: engine.Context, reveal: bool) -> Redactor:
    """Masks every secret of the run, the client secret included."""
    return Redactor.for_run(run, {ctx.client_secret or ""}, reveal, loaded=True)


def lacks_secret(flow: Flow, ctx: engine.Context) -> bool:
    """A confidential client's run whose secret the server no longer holds."""
    return flow.client == "confidential" and not ctx.client_secret


def _when(taken: claims.Claim) -> dict:
    now = time.time()
    return {"since": max(round(now - taken.since), 0),
            "wait": max(math.ceil(taken.free_at - now), 1)}


def _interruption(outcome: dict | None) -> tuple[str, dict]:
    """What the page says of a step that left no outcome: the database did not keep
    it (``outcome`` None), the connection broke, or the provider is down a moment."""
    if outcome is None:
        return "not_saved", {}
    if outcome.get("cut_off"):
        return "cut_off", {}
    return "unavailable", {}
