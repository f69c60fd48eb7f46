"""The room at a glance: how far the attendees' runs have got, counted, never listed.

Reads the runner's table with its own queries through the store's database handle.
Only counts leave this module: no run id, owner, provider or secret. The presenter
can clear the counts between two sessions: they then count the runs started since,
and every run goes on as it was.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.runner.store import db
from flowlab.core.storage.tables import room
from flowlab.core.storage.tables import runs


@dataclass(frozen=True)
class StepCount:
    id: str
    title: str
    runs: int  # runs whose latest step done is this one


@dataclass(frozen=True)
class FlowCount:
    id: str
    name: str
    runs: int
    not_started: int
    finished: int
    stopped: int
    steps: tuple[StepCount, ...]


def counts(flows: Iterable, leave_out: str | None) -> list[FlowCount]:
    """Live runs started since the room was last cleared, per flow and per latest
    step done, leaving out one browser's own.

    Steps are matched by id, so a run against a provider that skips some steps
    still lands on the right row.
    """
    rows = db.get().execute(
        select(runs.c.flow, runs.c.status, runs.c.step, func.count().label("n"))
        .where(runs.c.expires >= time.time(), runs.c.owner != (leave_out or ""),
               runs.c.created >= cleared_at(),
               runs.c.parent.is_(None))  # a branch (runner.branch) is no new run
        .group_by(runs.c.flow, runs.c.status, runs.c.step)
    ).mappings()
    found: dict[str, Counter] = {}
    for row in rows:
        tally = found.setdefault(row["flow"], Counter())
        tally["runs"] += row["n"]
        tally[("at", row["step"])] += row["n"]
        tally[row["status"]] += row["n"]
    return [_flow_count(flow, found.get(flow.id, Counter())) for flow in flows]


def _flow_count(flow, tally: Counter) -> FlowCount:
    steps = tuple(StepCount(step["id"], step["title"], tally[("at", step["id"])])
                  for step in flow.steps)
    return FlowCount(flow.id, flow.name, tally["runs"], tally[("at", None)],
                     tally["finished"], tally["stopped"], steps)


def as_json(flow_counts: list[FlowCount]) -> dict:
    """The counts as JSON for the room page's script."""
    return {"flows": [asdict(count) for count in flow_counts]}


def cleared_at() -> float:
    """When the presenter last cleared the room (0: never)."""
    return db.get().execute(select(room.c.cleared)).scalar() or 0.0


def clear() -> None:
    """Start the counts again from now; no run is deleted or changed."""
    _set(cleared=time.time())


def leaderboard_shown() -> bool:
    """Whether the presenter shows the leaderboard (hidden until they do)."""
    return bool(db.get().execute(select(room.c.leaderboard)).scalar())


def show_leaderboard(shown: bool) -> None:
    _set(leaderboard=shown)


def _set(**values) -> None:
    """Change the room's one row, made on first use."""
    conn = db.get()
    if conn.execute(update(room).values(**values)).rowcount == 0:
        conn.execute(insert(room).values(**{"id": 1, "cleared": 0.0, **values}))


def held_secrets(owner: str) -> set[str]:
    """Every string kept in ``owner``'s runs (codes, tokens), for the sandbox reset."""
    rows = db.get().execute(select(runs.c.secrets).where(runs.c.owner == owner))
    found: set[str] = set()
    for kept in rows.scalars():
        found.update(_strings(json.loads(kept)))
    return found


def forget_runs(owner: str) -> int:
    """Delete every run of ``owner`` (the presenter); other browsers' runs stay."""
    return db.get().execute(delete(runs).where(runs.c.owner == owner)).rowcount


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
