"""Browser state that every process shares: provider choices and sealed secrets.

A narrow interface over the lab's database (``flowlab.core.storage.tables``:
``choices``, ``run_secrets``): put, get, forget and expire. Secrets arrive here already
sealed (``flowlab.core.secrets``), so this module never holds one in the clear. A row
unused for an hour is deleted and is not read meanwhile. Reading a row keeps it alive;
to spare the database a write on every page, at most once a minute.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.provider import Provider
from flowlab.core.storage.db import LAB
from flowlab.core.storage.db import upsert
from flowlab.core.storage.tables import choices
from flowlab.core.storage.tables import run_secrets

IDLE_SECONDS = 3600
TOUCH_EVERY = 60
PURGE_EVERY = 60
_next_purge = 0.0  # per process: when this process next deletes idle rows


def idle_seconds() -> float:
    return IDLE_SECONDS


def put_choice(browser: str, provider: Provider, secret: bytes | None) -> None:
    """Store (or replace) the browser's provider and its sealed client secret."""
    values = {"browser": browser, "provider": json.dumps(provider.to_json()),
              "secret": secret, "touched": _purge()}
    upsert(LAB.get(), choices, values, ("browser",),
           lambda new: {"provider": new.provider, "secret": new.secret,
                        "touched": new.touched})


def get_choice(browser: str) -> tuple[Provider, bytes | None] | None:
    """The browser's provider profile and sealed secret, unless idle too long."""
    row = _fresh(choices, browser=browser)
    return (Provider.from_json(json.loads(row.provider)), row.secret) if row else None


def put_sealed(run: str, browser: str, sealed: bytes) -> None:
    """Store (or replace) the sealed secrets of ``run``, which ``browser`` owns."""
    values = {"run": run, "browser": browser, "sealed": sealed, "touched": _purge()}
    upsert(LAB.get(), run_secrets, values, ("run",),
           lambda new: {"browser": new.browser, "sealed": new.sealed,
                        "touched": new.touched})


def get_sealed(run: str, browser: str) -> bytes | None:
    row = _fresh(run_secrets, run=run, browser=browser)
    return row.sealed if row else None


def forget(browser: str) -> None:
    """Delete the browser's provider choice and the secrets of all its runs."""
    conn = LAB.get()
    conn.execute(delete(choices).where(choices.c.browser == browser))
    conn.execute(delete(run_secrets).where(run_secrets.c.browser == browser))


def expire_idle(now: float | None = None) -> int:
    """Delete every row unused for the idle time; the number deleted."""
    cutoff = (time.time() if now is None else now) - idle_seconds()
    conn = LAB.get()
    return sum(conn.execute(delete(t).where(t.c.touched < cutoff)).rowcount
               for t in (choices, run_secrets))


def _fresh(table: Table, **keys):
    """The row whose columns equal ``keys``, if used within the idle time; marks it
    used (now and then)."""
    now = _purge()
    conn = LAB.get()
    row = conn.execute(_read(table, tuple(sorted(keys))),
                       {**keys, "since": now - idle_seconds()}).first()
    if row is not None and row.touched < now - TOUCH_EVERY:
        conn.execute(update(table).where(*(table.c[name] == value
                                           for name, value in keys.items()))
                     .values(touched=now))
    return row


_READS: dict[tuple, object] = {}


def _read(table: Table, names: tuple[str, ...]):
    """The SELECT of ``_fresh``, built once per table and key columns: every page
    reads a row, and building the statement cost more than running it."""
    statement = _READS.get((table.name, names))
    if statement is None:
        statement = _READS[table.name, names] = select(table).where(
            *(table.c[name] == bindparam(name) for name in names),
            table.c.touched >= bindparam("since"))
    return statement


def _purge() -> float:
    """The time now; deletes idle rows when this process has not for a minute."""
    global _next_purge
    now = time.time()
    if now >= _next_purge:
        _next_purge = now + PURGE_EVERY
        expire_idle(now)
    return now
