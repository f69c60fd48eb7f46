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

from flowlab.core.provider import Provider
from flowlab.core.redact import Redactor
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
