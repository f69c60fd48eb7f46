"""Runs kept in the lab's database: created, loaded by their owner, saved, purged
after a day.

Runs against the sandbox are stored whole. Runs against real providers keep their
secrets (codes, verifiers, tokens) only sealed for their browser
(``flowlab.credentials.RunSecrets``), and their exchanges reach the disk already
redacted.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from dataclasses import field

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from ..db import LAB
from ..profiles import Provider
from ..redact import Redactor
from ..tables import runs
from . import poll
from .records import StepRecord

db = LAB


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

    @property
    def awaiting_browser(self) -> bool:
        return self.status == "active" and "state" in self.secrets

    @property
    def on_disk_whole(self) -> bool:
        """Only the sandbox's throwaway secrets may be written to disk."""
        return self.provider.is_sandbox


def create(owner: str, flow: str, provider: Provider,
           options: dict | None = None) -> Run:
    """Start a run of ``flow`` for ``owner`` and purge runs past their day."""
    now = time.time()
    run = Run(secrets.token_urlsafe(12), owner, flow, provider, created=now,
              options=options or {})
    conn = db.get()
    conn.execute(delete(runs).where(runs.c.expires < now))
    conn.execute(insert(runs).values(
        id=run.id, owner=owner, flow=flow, provider=json.dumps(provider.to_json()),
        options=json.dumps(run.options), secrets="{}", steps="[]", status=run.status,
        created=now, expires=now + current_app.config["RUN_TTL"],
    ))
    return run


def load(run_id: str, owner: str) -> Run | None:
    """The run, if it exists, has not expired and belongs to ``owner``."""
    row = db.get().execute(
        select(runs).where(runs.c.id == run_id, runs.c.owner == owner,
                           runs.c.expires >= time.time())
    ).mappings().first()
    return _from_row(row) if row else None


def owned(owner: str, limit: int = 20) -> list[Run]:
    """The owner's live runs, newest first."""
    rows = db.get().execute(
        select(runs).where(runs.c.owner == owner, runs.c.expires >= time.time())
        .order_by(runs.c.created.desc()).limit(limit)
    ).mappings()
    return [_from_row(row) for row in rows]


def claim(run: Run, stale_after: float = 30) -> bool:
    """Take the run's next step before any network call. False if another request
    (a double click, a second tab) is running it, unless that one died long ago."""
    # A repeating step's tries count too: each try is claimed on its own, and every
    # try of a step comes before the next step (fewer than 1000 tries a step).
    step = poll.index(run.steps) * 1000 + poll.tries(run.steps) + 1
    now = time.time()
    free = (runs.c.claimed < step) | (runs.c.claimed_at < now - stale_after)
    cur = db.get().execute(
        update(runs).where(runs.c.id == run.id, runs.c.version == run.version, free)
        .values(version=runs.c.version + 1, claimed=step, claimed_at=now))
    run.version += 1
    return cur.rowcount == 1


def waiting(owner: str | None) -> list[Run]:
    """The owner's runs that wait for the authorization server's redirect."""
    return [run for run in owned(owner) if run.awaiting_browser] if owner else []


def save(run: Run) -> bool:
    """Store the run unless another request saved it since it was loaded."""
    secrets_, steps = run.secrets, [record.to_json() for record in run.steps]
    if not run.on_disk_whole:
        secrets_, steps = {}, Redactor.for_run(run, set(), False).deep(steps)
    latest = run.steps[-1].id if run.steps else None
    cur = db.get().execute(
        update(runs).where(runs.c.id == run.id, runs.c.version == run.version)
        .values(secrets=json.dumps(secrets_), steps=json.dumps(steps),
                status=run.status, step=latest, version=runs.c.version + 1))
    run.version += 1
    if cur.rowcount == 1 and not run.on_disk_whole:
        current_app.extensions["run_secrets"].put(run.id, copy.deepcopy(run.secrets))
    return cur.rowcount == 1


def _from_row(row) -> Run:
    provider = Provider.from_json(json.loads(row["provider"]))
    steps = [StepRecord.from_json(record) for record in json.loads(row["steps"])]
    run = Run(row["id"], row["owner"], row["flow"], provider,
              json.loads(row["secrets"]), steps, row["status"],
              row["version"], row["created"], json.loads(row["options"]))
    if not run.on_disk_whole:  # a copy: concurrent requests must not share one
        run.secrets = copy.deepcopy(current_app.extensions["run_secrets"].get(run.id)
                                    or {})
    return run
