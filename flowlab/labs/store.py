"""Lab runs: what one browser did in one lab variant, and every message captured.

Runs live in the lab's database (``flowlab.core.storage.tables.lab_runs``), so any
worker of any process may serve any request of a run: the lab page, the lab client's
callback, the attacker on 127.0.0.2. Five methods: ``new``, ``get``, ``find``,
``latest``
and ``save``.
A save is an update-where-version; when another request saved the run since this
one read it, this request's changes (its new messages, the client and attacker
fields it set or removed) are applied to the stored run and saved again, so no
captured message is lost.

Stored whole and in the clear, like a sandbox run of the runner: a lab run holds
only the labs' own throwaway demo values (the lab client's state, verifier and
sandbox tokens, the attacker's scripted sign-in as a demo user, the lab clients'
secret, which opens nothing but those clients) and the captured messages. Nothing
a user types into another provider reaches it, and the browser's session cookie is
never recorded (``NOT_RECORDED``). A run lasts an hour; a browser's new run of a
lab variant replaces its previous one.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import lab_runs

KEEP_SECONDS = 3600
ATTEMPTS = 5  # saves of one run racing another request before giving up
_MISSING = object()


@dataclass(frozen=True)
class Entry:
    """One message of a lab: who sent it, on which channel, what went over the wire.

    ``key`` names its annotation in the lab's TOML; ``actor`` is "victim" (the
    learner's browser or the client acting for it) or "attacker".
    """

    key: str
    actor: str
    channel: str  # "front": through a browser; "back": server to server
    exchange: Exchange


@dataclass
class Run:
    """One attempt at a lab under one variant, owned by one browser."""

    id: str
    lab: str
    variant: str
    browser: str
    origin: str  # the lab as the browser reaches it, e.g. http://127.0.0.1:5000
    backchannel: str  # where servers call the sandbox (the private listener)
    redirect_base: str = ""  # where redirect URIs point, if not ``origin``
    created: float = field(default_factory=time.time)
    client: dict = field(default_factory=dict)  # the lab client's session for it
    attacker: dict = field(default_factory=dict)  # what the attacker holds
    trace: list[Entry] = field(default_factory=list)
    version: int = 0
    # As last read or saved: how many messages, the client's and attacker's fields.
    base: tuple = field(default=(0, {}, {}), repr=False, compare=False)

    def record(self, key: str, actor: str, channel: str, exchange: Exchange) -> None:
        self.trace.append(Entry(key, actor, channel, _without_cookies(exchange)))

    def entries(self, key: str) -> list[Entry]:
        return [entry for entry in self.trace if entry.key == key]


UNKEPT = "(a session cookie: not recorded)"


def _without_cookies(exchange: Exchange) -> Exchange:
    """``exchange`` with every cookie's value left out: a session cookie, the
    victim's or the attacker's own, would let anyone reading the trace act as that
    browser (RFC 6265 §8), and no lab turns on one."""
    def kept(message: Message | None) -> Message | None:
        if message is None:
            return None
        headers = [(name, UNKEPT if name.lower() in ("cookie", "set-cookie")
                    and not value.startswith("(") else value)
                   for name, value in message.headers]
        return replace(message, headers=headers)

    return replace(exchange, request=kept(exchange.request),
                   response=kept(exchange.response))


class RunStore:
    """Lab runs by id in the lab's database, reachable from the lab app and the
    attacker's app alike (each call takes its own connection)."""

    def __init__(self, app) -> None:
        self.app = app  # what ``db.LAB`` opens this app's connections for

    def new(self, **fields) -> Run:
        """A run, stored at once; expired runs and this browser's previous run of
        the same lab variant are deleted."""
        run = Run(id=secrets.token_urlsafe(16), **fields)
        mine = ((lab_runs.c.browser == run.browser) & (lab_runs.c.lab == run.lab)
                & (lab_runs.c.variant == run.variant))
        with LAB.connection(self.app) as conn:
            conn.execute(delete(lab_runs).where(
                or_(lab_runs.c.created < time.time() - KEEP_SECONDS, mine)))
            conn.execute(insert(lab_runs).values(
                id=run.id, lab=run.lab, variant=run.variant, browser=run.browser,
                origin=run.origin, backchannel=run.backchannel,
                redirect_base=run.redirect_base, created=run.created,
                **_changing(run)))
        run.base = _snapshot(run)
        return run

    def get(self, run_id: str | None) -> Run | None:
        return self._one(lab_runs.c.id == (run_id or ""))

    def find(self, lab: str, state: str | None) -> Run | None:
        """The run of ``lab`` whose client is waiting for ``state``."""
        if not state:
            return None
        return self._one((lab_runs.c.lab == lab) & (lab_runs.c.state == state))

    def latest(self, browser: str) -> Run | None:
        """The run this browser started last, of any lab (the presenter's notes)."""
        fresh = lab_runs.c.created >= time.time() - KEEP_SECONDS
        with LAB.connection(self.app) as conn:
            row = conn.execute(select(lab_runs).where(
                lab_runs.c.browser == browser, fresh)
                .order_by(lab_runs.c.created.desc()).limit(1)).mappings().first()
        return _from_row(row) if row else None

    def save(self, run: Run) -> bool:
        """Store ``run``'s changes; False only when the run is gone (expired or
        replaced). A run saved meanwhile by another request gets these changes too."""
        for _ in range(ATTEMPTS):
            with LAB.connection(self.app) as conn:
                saved = conn.execute(update(lab_runs).where(
                    lab_runs.c.id == run.id, lab_runs.c.version == run.version)
                    .values(version=run.version + 1, **_changing(run))).rowcount
            if saved == 1:
                run.version += 1
                run.base = _snapshot(run)
                return True
            stored = self.get(run.id)
            if stored is None:
                return False
            _rebase(run, stored)
        raise RuntimeError(f"lab run {run.id}: too many concurrent saves")

    def _one(self, where) -> Run | None:
        fresh = lab_runs.c.created >= time.time() - KEEP_SECONDS
        with LAB.connection(self.app) as conn:
            row = conn.execute(select(lab_runs).where(where, fresh)).mappings().first()
        return _from_row(row) if row else None


def _changing(run: Run) -> dict:
    """The columns a save writes: the client, the attacker, the trace as JSON, and
    the state the client waits for (what ``find`` looks up)."""
    trace = [{"key": e.key, "actor": e.actor, "channel": e.channel,
              "exchange": e.exchange.to_dict()} for e in run.trace]
    return {"state": run.client.get("state"), "client": json.dumps(run.client),
            "attacker": json.dumps(run.attacker), "trace": json.dumps(trace)}


def _from_row(row) -> Run:
    trace = [Entry(e["key"], e["actor"], e["channel"],
                   Exchange.from_dict(e["exchange"])) for e in json.loads(row["trace"])]
    run = Run(row["id"], row["lab"], row["variant"], row["browser"], row["origin"],
              row["backchannel"], row["redirect_base"], row["created"],
              json.loads(row["client"]), json.loads(row["attacker"]), trace,
              row["version"])
    run.base = _snapshot(run)
    return run


def _snapshot(run: Run) -> tuple:
    return len(run.trace), copy.deepcopy(run.client), copy.deepcopy(run.attacker)


def _rebase(run: Run, stored: Run) -> None:
    """Put ``run``'s changes since it was read on top of ``stored``, in place."""
    seen, client, attacker = run.base
    run.trace = stored.trace + run.trace[seen:]
    run.client = _applied(stored.client, client, run.client)
    run.attacker = _applied(stored.attacker, attacker, run.attacker)
    run.version, run.base = stored.version, stored.base


def _applied(stored: dict, before: dict, after: dict) -> dict:
    """``stored`` with the keys that went from ``before`` to ``after`` changed."""
    merged = {k: v for k, v in stored.items() if k not in before.keys() - after.keys()}
    merged.update({k: v for k, v in after.items() if before.get(k, _MISSING) != v})
    return merged
