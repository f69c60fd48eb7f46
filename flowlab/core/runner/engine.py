"""The step engine: runs a flow's steps in order and records what happened.

Back-channel steps run when the learner clicks Next. Front-channel steps happen in
the learner's browser; the engine records them when the browser comes back to the
callback (RFC 6749 §4.1.2, §4.2.2) and checks ``state`` and ``iss`` before anything
else is trusted. A step with ``repeat_until`` runs its action again while the action
reports "pending" (``poll.py``, RFC 8628 §3.4-§3.5). A step may record an
``outcome`` (``iss`` checked or absent, PKCE sent or not, refresh token kept or
rotated) that picks the text the learner reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flowlab.core.hosts import constant_time_equal
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.runner import actions as _registered  # noqa: F401  (registers the actions)
from flowlab.core.runner import claims
from flowlab.core.runner import oidc
from flowlab.core.runner import poll
from flowlab.core.runner.flows import Flow
from flowlab.core.runner.records import StepRecord
from flowlab.core.runner.registry import action
from flowlab.core.runner.store import Run


@dataclass(frozen=True)
class Context:
    """Where and as whom this step talks: provider profile, client, callback."""

    provider: dict
    client_id: str
    client_secret: str | None
    redirect_uri: str
    scope: str | None = None
    timeout: float = 5


def pending(run: Run, flow: Flow) -> dict | None:
    """The next step to run (a repeating one until it is over), or None when the
    run is over."""
    return flow.step(poll.index(run.steps)) if run.status == "active" else None


def ready_at(run: Run, flow: Flow) -> float:
    """When the pending step may run: a polling step waits out the interval since
    the last poll (RFC 8628 §3.5); 0 when it may run now or is no polling step."""
    step = pending(run, flow)
    if step is None or action(step["action"]).front:
        return 0.0
    own = action(step["action"]).ready_at
    last = run.steps[-1].poll["next_at"] if poll.tries(run.steps) else 0.0
    return max(last, own(run) if own else 0.0)


def advance(run: Run, flow: Flow, ctx: Context, **timing) -> dict | None:
    """Run the pending back-channel step and record its outcome; a repeating step
    runs as ``poll.repeat`` says (``timing``: its clock, sleep and budget).

    The step is interrupted, not failed, when the connection broke before the
    answer (``cut_off``) or the provider said it is down for a moment (503, RFC 9110
    §15.6.4: not an answer to what was sent): nothing is recorded, the unrecorded
    outcome is returned, and Next runs the step again. Any other answer, a 500
    included, is the step's outcome."""
    step = pending(run, flow)
    if step is None or action(step["action"]).front:
        return None
    act = action(step["action"]).run
    if "repeat_until" not in step:
        outcome = act(run, flow, step, ctx)
    else:
        outcome = poll.repeat(run, step, lambda: act(run, flow, step, ctx), **timing)
    if outcome is None:
        return None
    if outcome.get("cut_off") or _unavailable(step, outcome):
        return outcome
    _finish(run, flow, step, outcome)
    return None


def _unavailable(step: dict, outcome: dict) -> bool:
    """A 503 answer to a step that does not teach one."""
    return outcome.get("status_code") == 503 != step.get("expect")


def spends(run: Run, flow: Flow) -> bool:
    """Whether the pending step sends what works once (a code, RFC 6749 §4.1.2) and
    the run can sign in again to get it anew."""
    step = pending(run, flow)
    return bool(step and action(step["action"]).spends
                and _sign_in(run, flow) is not None)


def spent(run: Run, flow: Flow, stale_after: float | None = None) -> bool:
    """Whether the pending step spends what works once and an earlier try of it was
    cut off: sending it again would only be refused."""
    return spends(run, flow) and claims.interrupted(run, stale_after)


def sign_in_again(run: Run, flow: Flow) -> bool:
    """Take the run back to its authorization request, to get what the cut-off try
    spent anew: the steps from there on and their secrets are dropped."""
    back_to = _sign_in(run, flow)
    if back_to is None:
        return False
    del run.steps[back_to:]
    run.secrets = {k: v for k, v in run.secrets.items() if k == "redirect_uri"}
    run.status = "active"
    return True


def _sign_in(run: Run, flow: Flow) -> int | None:
    """The index of the latest authorization request before the pending step."""
    for index in range(poll.index(run.steps) - 1, -1, -1):
        if flow.steps[index]["action"] == "authorize":
            return index
    return None


def awaiting(run: Run, flow: Flow) -> str | None:
    """Where the redirect this run waits for carries its answer ("query" or
    "fragment"), or None when it waits for none: the waiting step's action says."""
    if not run.awaiting_browser:
        return None
    for step in flow.steps[poll.index(run.steps):]:
        if not action(step["action"]).front:
            return None
        if action(step["action"]).receives:
            return action(step["action"]).receives
    return None


def match_state(runs: list[Run], state: str | None,
                key: str = "state") -> Run | None:
    """The waiting run that sent ``state`` (compared in constant time), if any;
    ``key="taken_state"``: the run that already took the redirect carrying it."""
    for run in runs:
        if state and constant_time_equal(state, run.secrets.get(key, "")):
            return run
    return None


def receive_redirect(run: Run, flow: Flow, request: Message,
                     pairs: list[tuple[str, str]], url: str = "") -> None:
    """Record the browser's return: the front-channel steps before it (consent)
    done, then the step that receives the redirect, checked."""
    if awaiting(run, flow) is None:
        return
    step = pending(run, flow)
    while not action(step["action"]).receives:
        _finish(run, flow, step, {"data": {"user_returned": True}})
        step = pending(run, flow)
    _finish(run, flow, step, _check_redirect(run, pairs, flow.notes) | {
        "exchanges": [Exchange(request, url=url, started=time.time()).to_dict()],
        "data": {"params": sorted(pairs)},
    })


def _check_redirect(run: Run, pairs: list[tuple[str, str]],
                    notes: oidc.Notes) -> dict:
    """Compare state (RFC 6749 §10.12) and iss (RFC 9207 §2.4), then read the result."""
    expected = run.secrets.pop("state", None)
    if expected:  # a retry of the same redirect leads back to the run
        run.secrets["taken_state"] = expected
    params = dict(pairs)
    if len(params) != len(pairs):  # RFC 6749 §3.1: no parameter twice
        return {"error": "duplicate-parameters"}
    sent = params.get("state")
    if not expected or not sent or not constant_time_equal(sent, expected):
        return {"error": "state-mismatch"}
    # An iss is compared whenever one comes back: one the run did not expect (no
    # issuer known) is a mismatch too, as a mix-up would produce (RFC 9700 §4.4.2.1).
    checks_iss = run.provider.iss_supported or "iss" in params
    # The server the request went to: one the run found by discovery, or its own.
    if checks_iss and params.get("iss") != (run.secrets.get("issuer")
                                            or run.provider.issuer):
        return {"error": "iss-mismatch"}
    outcome = "iss-checked" if checks_iss else "no-iss"
    if "error" in params:
        return {"error": "denied" if params["error"] == "access_denied"
                else "provider-error", "outcome": outcome,
                "notes": oidc.error_notes(notes, params["error"])}
    if "code" in params:
        run.secrets["code"] = params["code"]
    elif "access_token" in params:
        run.secrets["token"] = {k: params[k] for k in
                                ("access_token", "token_type", "expires_in", "scope")
                                if k in params}
    else:
        return {"error": "no-result"}
    return {"error": None, "outcome": outcome}


def record(run: Run, flow: Flow, step: dict, outcome: dict) -> None:
    """Record ``outcome`` as ``step``'s result, as Next would (a branch's step)."""
    _finish(run, flow, step, outcome)


def _finish(run: Run, flow: Flow, step: dict, outcome: dict) -> None:
    poll.drop_pending(run.steps)
    expected, error = step.get("expect"), outcome.get("error")
    if outcome.get("skipped"):  # nothing to do here, and the notes say why
        failed = False
    elif expected is None:
        failed = bool(error)
    else:  # an error is the lesson of a 4xx step, but a 2xx step must succeed
        failed = outcome.get("status_code") != expected or (
            bool(error) and expected < 400)
    run.steps.append(StepRecord.of(step["id"], "failed" if failed else "done",
                                   outcome, time.time()))
    if failed:
        run.status = "stopped"
    elif len(run.steps) == len(flow.steps):
        run.status = "finished"
