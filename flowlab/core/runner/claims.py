"""Claims on a run's next step, so that one request runs it (a double click, a second
tab, another process): taken before any network call, let go of when the step's
outcome is saved, and free again when the request that held one is gone."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from flowlab.core.runner import holder
from flowlab.core.runner import poll
from flowlab.core.runner.settings import DEFAULTS
from flowlab.core.runner.store import Run
from flowlab.core.runner.store import db
from flowlab.core.storage.tables import runs


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a run's next step: true when this request took it."""

    step: int
    taken: bool
    interrupted: bool = False  # an earlier try of this step began, left no outcome
    since: float = 0.0  # not taken: when the request running the step began
    free_at: float = 0.0  # not taken: when Next may run it again at the latest

    def __bool__(self) -> bool:
        return self.taken


def stale_time() -> float:
    """How long a claim may hold a step by default (``RunSettings.stale_after``)."""
    return DEFAULTS.stale_after


def claim(run: Run, stale_after: float | None = None) -> Claim:
    """Take the run's next step before any network call. Not taken while another
    request (a double click, a second tab) runs it: unless that request's process
    is gone (``holder``) or its claim is older than ``stale_time``. A claim counts
    as running in this process from before it is written until it is let go of
    (``let_go``), so no other thread here ever reads it as free while it runs."""
    step = _number(run)
    now = time.time()
    stale = stale_time() if stale_after is None else stale_after
    conn = db.get()
    row = conn.execute(select(runs.c.claimed, runs.c.claimed_at, runs.c.claimed_by)
                       .where(runs.c.id == run.id)).first()
    if row is None:
        return Claim(step, False)
    if row.claimed >= step and _held(run.id, row.claimed_by, row.claimed_at, stale):
        return Claim(step, False, since=row.claimed_at,
                     free_at=row.claimed_at + stale)
    holder.mark(run.id)  # first: a thread here reading the claim finds it running
    taken = False
    try:
        taken = conn.execute(
            update(runs).where(runs.c.id == run.id, runs.c.version == run.version,
                               runs.c.claimed == row.claimed,
                               runs.c.claimed_at == row.claimed_at,
                               runs.c.claimed_by == row.claimed_by)
            .values(version=runs.c.version + 1, claimed=step, claimed_at=now,
                    claimed_by=holder.me())).rowcount == 1
    finally:
        if not taken:
            holder.unmark(run.id)
    run.version += 1
    return Claim(step, taken, interrupted=taken and row.claimed == step)


def let_go(run: Run, taken: Claim, saved: bool) -> None:
    """The request that took ``taken`` is done with it; unless its outcome was
    saved (the next step has a claim number of its own), the claim is released."""
    try:
        if not saved:  # released first: till then the claim is running here
            release(run, taken)
    finally:
        holder.unmark(run.id)


def release(run: Run, taken: Claim, tries: int = 10, pause: float = 0.5) -> bool:
    """Let go of a claim whose step left no outcome (its save failed): Next may run
    the step again at once. Tried again for a few seconds while the database is
    away (a restart); a claim still held then is free in this process anyway."""
    for attempt in range(tries):
        conn = db.get()
        try:
            if conn.invalidated:  # cut off with the database: connect anew
                conn.rollback()
            conn.execute(
                update(runs).where(runs.c.id == run.id,
                                   runs.c.claimed == taken.step,
                                   runs.c.claimed_by == holder.me())
                .values(claimed_by="", claimed_at=0))
            return True
        except SQLAlchemyError:
            if attempt + 1 < tries:
                time.sleep(pause)
    return False


def interrupted(run: Run, stale_after: float | None = None) -> bool:
    """Whether an earlier try of the run's next step began and left no outcome (its
    process died, its connection broke, its save failed) and none runs it now."""
    return run.claimed == _number(run) and not _held(
        run.id, run.claimed_by, run.claimed_at,
        stale_time() if stale_after is None else stale_after)


def settled(run: Run) -> bool:
    """Whether ``interrupted`` will say the same of the run while its row stays as
    it is: no claim on its next step that may still be running, which the clock or
    a process gone would free (a page showing it may be kept: ``web.stepcache``)."""
    return run.claimed != _number(run) or not run.claimed_by


def _held(run_id: str, by: str, since: float, stale: float) -> bool:
    """Whether a claim taken by ``by`` at ``since`` may still be running."""
    return bool(by) and since >= time.time() - stale and holder.running(by, run_id)


def _number(run: Run) -> int:
    """The claim number of the run's next step. A repeating step's tries count too:
    each try is claimed on its own, and every try of a step comes before the next
    step (fewer than 1000 tries a step)."""
    return poll.index(run.steps) * 1000 + poll.tries(run.steps) + 1
