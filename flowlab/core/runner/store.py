"""Runs kept in the lab's database: created, loaded by their owner, saved, purged
after a day.

Runs against the sandbox are stored whole. Runs against real providers keep their
secrets (codes, verifiers, tokens) only sealed for their browser, in the
``SecretBox`` the caller passes (``flowlab.core.secrets``), and their exchanges reach
the disk already redacted. Without a box such a run loads without its secrets, and
saving it raises ``SecretsRefused``: its secrets are never dropped silently.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from flowlab.core.provider import Provider
from flowlab.core.redact import Redactor
from flowlab.core.runner import holder
from flowlab.core.runner import poll
from flowlab.core.runner.records import StepRecord
from flowlab.core.runner.settings import DEFAULTS
from flowlab.core.secrets import SecretBox
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs

db = LAB


class SecretsRefused(RuntimeError):
    """A real provider's run saved without a box to seal its secrets in."""


@dataclass
class Run:
    id: str
    owner: str
    flow: str
    provider: Provider
    secrets: dict = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    status: str = "active"
    version: int = 0
    created: float = 0.0
    options: dict = field(default_factory=dict)
    claimed: int = 0  # the claim number of the latest step a request began
    claimed_at: float = 0.0
    claimed_by: str = ""  # its holder (``holder.me``), "" once released

    @property
    def awaiting_browser(self) -> bool:
        return self.status == "active" and "state" in self.secrets

    @property
    def on_disk_whole(self) -> bool:
        """Only the sandbox's throwaway secrets may be written to disk."""
        return self.provider.is_sandbox


def create(owner: str, flow: str, provider: Provider,
           options: dict | None = None, ttl: float = DEFAULTS.ttl) -> Run:
    """Start a run of ``flow`` for ``owner``, kept ``ttl`` seconds; purge runs past
    theirs."""
    now = time.time()
    run = Run(secrets.token_urlsafe(12), owner, flow, provider, created=now,
              options=options or {})
    conn = db.get()
    conn.execute(delete(runs).where(runs.c.expires < now))
    conn.execute(insert(runs).values(
        id=run.id, owner=owner, flow=flow, provider=json.dumps(provider.to_json()),
        options=json.dumps(run.options), secrets="{}", steps="[]", status=run.status,
        created=now, expires=now + ttl,
    ))
    return run


def load(run_id: str, owner: str, box: SecretBox | None = None) -> Run | None:
    """The run, if it exists, has not expired and belongs to ``owner``; with its
    secrets opened from ``box``."""
    row = db.get().execute(_LOAD, {"run_id": run_id, "owner": owner,
                                   "now": time.time()}).mappings().first()
    return _from_row(row, box) if row else None


_LOAD = select(runs).where(runs.c.id == bindparam("run_id"),  # built once, used often
                           runs.c.owner == bindparam("owner"),
                           runs.c.expires >= bindparam("now"))


def owned(owner: str, limit: int = 20, box: SecretBox | None = None) -> list[Run]:
    """The owner's live runs, newest first."""
    rows = db.get().execute(
        select(runs).where(runs.c.owner == owner, runs.c.expires >= time.time())
        .order_by(runs.c.created.desc()).limit(limit)
    ).mappings()
    return [_from_row(row, box) for row in rows]


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


def _held(run_id: str, by: str, since: float, stale: float) -> bool:
    """Whether a claim taken by ``by`` at ``since`` may still be running."""
    return bool(by) and since >= time.time() - stale and holder.running(by, run_id)


def _number(run: Run) -> int:
    """The claim number of the run's next step. A repeating step's tries count too:
    each try is claimed on its own, and every try of a step comes before the next
    step (fewer than 1000 tries a step)."""
    return poll.index(run.steps) * 1000 + poll.tries(run.steps) + 1


def waiting(owner: str | None, box: SecretBox | None = None) -> list[Run]:
    """The owner's runs that wait for the authorization server's redirect."""
    return ([run for run in owned(owner, box=box) if run.awaiting_browser]
            if owner else [])


def save(run: Run, box: SecretBox | None = None, unclaim: bool = False) -> bool:
    """Store the run unless another request saved it since it was loaded;
    ``unclaim`` clears its claim, for a run taken back to an earlier step. A real
    provider's run keeps its secrets sealed in ``box``: without one, nothing is
    saved and ``SecretsRefused`` says why."""
    secrets_, steps = run.secrets, [record.to_json() for record in run.steps]
    if not run.on_disk_whole:
        if box is None:
            raise SecretsRefused(f"Run {run.id} of a real provider was saved without "
                                 "a box for its secrets: nothing was saved.")
        secrets_, steps = {}, Redactor.for_run(run, set(), False).deep(steps)
    latest = run.steps[-1].id if run.steps else None
    cur = db.get().execute(
        update(runs).where(runs.c.id == run.id, runs.c.version == run.version)
        .values(secrets=json.dumps(secrets_), steps=json.dumps(steps),
                options=json.dumps(run.options), status=run.status, step=latest,
                version=runs.c.version + 1,
                **({"claimed": 0, "claimed_at": 0, "claimed_by": ""} if unclaim
                   else {})))
    run.version += 1
    if cur.rowcount == 1 and not run.on_disk_whole:
        box.put_run(run.id, copy.deepcopy(run.secrets))
    return cur.rowcount == 1


def _from_row(row, box: SecretBox | None) -> Run:
    provider = Provider.from_json(json.loads(row["provider"]))
    steps = [StepRecord.from_json(record) for record in json.loads(row["steps"])]
    run = Run(row["id"], row["owner"], row["flow"], provider,
              json.loads(row["secrets"]), steps, row["status"],
              row["version"], row["created"], json.loads(row["options"]),
              row["claimed"], row["claimed_at"], row["claimed_by"])
    if not run.on_disk_whole:  # a copy: concurrent requests must not share one
        run.secrets = copy.deepcopy((box and box.get_run(run.id)) or {})
    return run
