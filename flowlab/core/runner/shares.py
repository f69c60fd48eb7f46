"""Read-only links to a run: anyone with the link sees it, masked, and nothing else.

A link's token is 32 random bytes (``secrets.token_urlsafe(24)``: 192 bits), kept
only as its SHA-256 digest, so the table cannot give a link back; a token is looked
up by its digest, which compares in the database without leaking timing about the
token itself. The owner revokes a link (``revoked_at``); a run's links end with the
run (a day). Opening a link gives the run only: never its owner's other runs, and
never the owner's browser id.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.runner import store
from flowlab.core.runner.store import Run
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs
from flowlab.core.storage.tables import shares

db = LAB
SHORTEST = 32  # ``token_urlsafe(24)`` makes 32 characters


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(run: Run) -> str:
    """A new link's token for ``run`` (its owner's, loaded by the caller)."""
    token = secrets.token_urlsafe(24)
    conn = db.get()
    conn.execute(delete(shares).where(shares.c.run_id.not_in(select(runs.c.id))))
    conn.execute(insert(shares).values(token_hash=digest(token), run_id=run.id,
                                       created_at=time.time()))
    return token


def live(run: Run) -> list[dict]:
    """The run's links not revoked, oldest first: their digests and start."""
    rows = db.get().execute(
        select(shares.c.token_hash, shares.c.created_at)
        .where(shares.c.run_id == run.id, shares.c.revoked_at.is_(None))
        .order_by(shares.c.created_at)).mappings()
    return [dict(row) for row in rows]


def revoke(run: Run, token_hash: str) -> bool:
    """End one of the run's links; whether there was such a live link."""
    done = db.get().execute(
        update(shares).where(shares.c.token_hash == token_hash,
                             shares.c.run_id == run.id,
                             shares.c.revoked_at.is_(None))
        .values(revoked_at=time.time()))
    return done.rowcount == 1


def opened(token: str) -> Run | None:
    """The run a live link opens (loaded without any box: a real provider's
    secrets stay sealed for their owner), or None."""
    if len(token) < SHORTEST or len(token) > 2 * SHORTEST:
        return None
    conn = db.get()
    row = conn.execute(
        select(runs.c.id, runs.c.owner).join(shares, shares.c.run_id == runs.c.id)
        .where(shares.c.token_hash == digest(token), shares.c.revoked_at.is_(None))
    ).first()
    return store.load(row.id, row.owner) if row else None
