"""Runs kept in SQLite: created, loaded by their owner, saved, purged after a day.

Runs against the sandbox are stored whole. Runs against real providers keep their
secrets (codes, verifiers, tokens) in memory only, and their exchanges reach the
disk already redacted.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flask import current_app

from ..db import Database
from ..redact import Redactor

db = Database("RUNS_DATABASE", Path(__file__).with_name("schema.sql"))


@dataclass
class Run:
    id: str
    owner: str
    flow: str
    provider: dict
    secrets: dict = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
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
        return self.provider.get("kind") == "sandbox"


def create(owner: str, flow: str, provider: dict, options: dict | None = None) -> Run:
    """Start a run of ``flow`` for ``owner`` and purge runs past their day."""
    now = time.time()
    run = Run(secrets.token_urlsafe(12), owner, flow, provider, created=now,
              options=options or {})
    conn = db.get()
    conn.execute("DELETE FROM runs WHERE expires < ?", (now,))
    conn.execute(
        "INSERT INTO runs (id, owner, flow, provider, options, secrets, steps, status,"
        " created, expires) VALUES (?, ?, ?, ?, ?, '{}', '[]', ?, ?, ?)",
        (run.id, owner, flow, json.dumps(provider), json.dumps(run.options),
         run.status, now, now + current_app.config["RUN_TTL"]),
    )
    return run


def load(run_id: str, owner: str) -> Run | None:
    """The run, if it exists, has not expired and belongs to ``owner``."""
    row = db.get().execute(
        "SELECT * FROM runs WHERE id = ? AND owner = ? AND expires >= ?",
        (run_id, owner, time.time()),
    ).fetchone()
    return _from_row(row) if row else None


def owned(owner: str, limit: int = 20) -> list[Run]:
    """The owner's live runs, newest first."""
    rows = db.get().execute(
        "SELECT * FROM runs WHERE owner = ? AND expires >= ? ORDER BY created DESC"
        " LIMIT ?", (owner, time.time(), limit),
    ).fetchall()
    return [_from_row(row) for row in rows]


def claim(run: Run, stale_after: float = 30) -> bool:
    """Take the run's next step before any network call. False if another request
    (a double click, a second tab) is running it, unless that one died long ago."""
    step, now = len(run.steps) + 1, time.time()
    cur = db.get().execute(
        "UPDATE runs SET version = version + 1, claimed = ?, claimed_at = ?"
        " WHERE id = ? AND version = ? AND (claimed < ? OR claimed_at < ?)",
        (step, now, run.id, run.version, step, now - stale_after))
    run.version += 1
    return cur.rowcount == 1


def waiting(owner: str | None) -> list[Run]:
    """The owner's runs that wait for the authorization server's redirect."""
    return [run for run in owned(owner) if run.awaiting_browser] if owner else []


def save(run: Run) -> bool:
    """Store the run unless another request saved it since it was loaded."""
    secrets_, steps = run.secrets, run.steps
    if not run.on_disk_whole:
        secrets_, steps = {}, Redactor.for_run(run, set(), False).deep(steps)
    cur = db.get().execute(
        "UPDATE runs SET secrets = ?, steps = ?, status = ?, version = version + 1"
        " WHERE id = ? AND version = ?",
        (json.dumps(secrets_), json.dumps(steps), run.status, run.id, run.version),
    )
    run.version += 1
    if cur.rowcount == 1 and not run.on_disk_whole:
        current_app.extensions["run_secrets"].put(run.id, copy.deepcopy(run.secrets))
    return cur.rowcount == 1


def _from_row(row) -> Run:
    run = Run(row["id"], row["owner"], row["flow"], json.loads(row["provider"]),
              json.loads(row["secrets"]), json.loads(row["steps"]), row["status"],
              row["version"], row["created"], json.loads(row["options"]))
    if not run.on_disk_whole:  # a copy: concurrent requests must not share one
        run.secrets = copy.deepcopy(current_app.extensions["run_secrets"].get(run.id)
                                    or {})
    return run
