"""Attempts: one learner's go at one exercise, with a sandbox app of its own.

The app is registered through the sandbox's public API (RFC 7591 §2: its client
type, grants and redirect URI from the exercise); its client id carries
:data:`~flowlab.exercises.traffic.PREFIX`, so the recorder knows its traffic at a
glance. An attempt lives ``ttl`` seconds (a day by default) and goes with its app
and its traffic; starting one sweeps the expired. Each client address may start
``per_hour`` attempts an hour, never fewer than :data:`MIN_PER_HOUR` (a room shares
one address behind its router).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.storage.db import transaction
from flowlab.core.storage.tables import exercise_attempts as table
from flowlab.core.storage.tables import exercise_traffic
from flowlab.exercises import checks
from flowlab.exercises import traffic
from flowlab.exercises.catalogue import Exercise
from flowlab.sandbox import public

MIN_PER_HOUR = 50
HOUR = 3600.0


@dataclass(frozen=True)
class Attempt:
    id: str
    exercise: str
    client_id: str
    browser: str | None
    created: float
    expires: float
    solved: float | None


class TooMany(Exception):
    """The address started its hour's attempts; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def start(lab: Connection, sandbox: Connection, config: Mapping, exercise: Exercise,
          *, address: str, browser: str | None, now: float | None = None) -> tuple[
              Attempt, str | None]:
    """A new attempt and its app's secret (None for a public app); raises
    :class:`TooMany` past the address's bound."""
    now = time.time() if now is None else now
    purge(lab, sandbox, now)
    key = public.digest("address:" + address)
    bound = max(MIN_PER_HOUR, int(config.get("EXERCISE_ATTEMPTS_PER_HOUR", 500)))
    recent = select(func.count(), func.min(table.c.created)).where(
        table.c.address == key, table.c.created > now - HOUR)
    count, oldest = lab.execute(recent).one()
    if count >= bound:
        raise TooMany(max(1, int(oldest + HOUR - now) + 1))
    attempt = Attempt(secrets.token_urlsafe(18), exercise.id,
                      traffic.PREFIX + secrets.token_hex(12), browser, now,
                      now + float(config.get("EXERCISE_ATTEMPT_TTL", 86400)), None)
    secret = public.create_client(
        sandbox, config, client_id=attempt.client_id,
        name=f"Exercise: {exercise.title}"[:64], redirect_uris=[exercise.redirect_uri],
        confidential=exercise.confidential, grant_types=list(exercise.grants),
        owner="exercise")
    lab.execute(insert(table).values(
        id=attempt.id, exercise=exercise.id, client_id=attempt.client_id,
        browser=browser, address=key, created=now, expires=attempt.expires))
    return attempt, secret


def get(lab: Connection, attempt_id: str, now: float | None = None) -> Attempt | None:
    """A live attempt, or None."""
    row = lab.execute(select(table).where(table.c.id == attempt_id)).first()
    if row is None or row.expires <= (time.time() if now is None else now):
        return None
    return _attempt(row)


def of_browser(lab: Connection, browser: str | None) -> list[Attempt]:
    """A browser's live attempts, newest first."""
    if not browser:
        return []
    rows = lab.execute(select(table).where(
        table.c.browser == browser, table.c.expires > time.time())
        .order_by(table.c.created.desc()).limit(50))
    return [_attempt(row) for row in rows]


def grade(lab: Connection, attempt: Attempt, exercise: Exercise,
          values: Mapping[str, str]) -> tuple[bool, list[dict]]:
    """Grade the attempt from what the sandbox received for it; the first time it
    is solved, that moment is kept (the room's scoreboard reads it)."""
    report = checks.grade(exercise.checks, values, traffic.received(lab, attempt.id))
    solved = all(check["passed"] for check in report)
    if solved and attempt.solved is None:
        lab.execute(update(table).where(table.c.id == attempt.id,
                                        table.c.solved.is_(None))
                    .values(solved=time.time()))
    return solved, report


def purge(lab: Connection, sandbox: Connection, now: float) -> None:
    """Delete attempts past their time, their traffic and their apps."""
    expired = lab.execute(select(table.c.id, table.c.client_id)
                          .where(table.c.expires <= now)).all()
    if not expired:
        return
    with transaction(sandbox):
        public.delete_clients(sandbox, [row.client_id for row in expired])
    with transaction(lab):
        ids = [row.id for row in expired]
        lab.execute(delete(exercise_traffic)
                    .where(exercise_traffic.c.attempt.in_(ids)))
        lab.execute(delete(table).where(table.c.id.in_(ids)))


def room_rows(lab: Connection, since: float) -> list[
        tuple[str, str, float, float | None]]:
    """(exercise, attendee, started, solved) of every attempt started since
    ``since``: the attendee is the browser, else the attempt (a client without
    cookies is a new attendee)."""
    rows = lab.execute(select(table.c.exercise, table.c.browser, table.c.id,
                              table.c.created, table.c.solved)
                       .where(table.c.created >= since).order_by(table.c.created))
    return [(r.exercise, r.browser or r.id, r.created, r.solved) for r in rows]


def _attempt(row) -> Attempt:
    return Attempt(row.id, row.exercise, row.client_id, row.browser, row.created,
                   row.expires, row.solved)
