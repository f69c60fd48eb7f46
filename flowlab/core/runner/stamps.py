"""A run's stamp: the few columns of its row that say whether a page of it rendered
earlier is still the page it would render (``flowlab.web.stepcache``), read in one
statement with its branches, without its steps.

Every save and every claim of a run adds one to its ``version``; a claim let go of
changes ``claimed_at`` and ``claimed_by``. So a page kept under a stamp shows the
run as it still is, whichever process saved it since. Its branches are other rows
(``branch.open_branch``), read along in the same statement.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import select

from flowlab.core.runner.store import Run
from flowlab.core.runner.store import db
from flowlab.core.storage.tables import runs


@dataclass(frozen=True)
class Stamp:
    """What a kept page of one run depends on in the lab's database."""

    id: str
    flow: str
    version: int
    claim: tuple  # claimed, claimed_at, claimed_by (``claims``)
    whole: bool  # its secrets are in the row (a sandbox run: ``Run.on_disk_whole``)
    branches: dict[int, list[str]]  # the runs branched from it, by step number


def of(run: Run, branches: dict[int, list[str]]) -> Stamp:
    """The stamp of a run already loaded, with the ``branches`` its page shows."""
    return Stamp(run.id, run.flow, run.version,
                 (run.claimed, run.claimed_at, run.claimed_by), run.on_disk_whole,
                 branches)


_CHILD = runs.alias("child")
_STAMP = (select(runs.c.flow, runs.c.version, runs.c.provider, runs.c.claimed,
                 runs.c.claimed_at, runs.c.claimed_by, _CHILD.c.id.label("branch"),
                 _CHILD.c.parent_step)  # built once: every step page asks
          .select_from(runs.outerjoin(_CHILD, and_(_CHILD.c.parent == runs.c.id,
                                                   _CHILD.c.owner == runs.c.owner)))
          .where(runs.c.id == bindparam("run_id"), runs.c.owner == bindparam("owner"),
                 runs.c.expires >= bindparam("now"))
          .order_by(_CHILD.c.created))


def stamp(run_id: str, owner: str) -> Stamp | None:
    """The stamp of ``owner``'s run, if it exists and has not expired (the same
    rule as ``store.load``); its branches oldest first."""
    rows = db.get().execute(_STAMP, {"run_id": run_id, "owner": owner,
                                     "now": time.time()}).all()
    if not rows:
        return None
    first = rows[0]
    branches: dict[int, list[str]] = {}
    for row in rows:
        if row.branch is not None:
            branches.setdefault(row.parent_step, []).append(row.branch)
    whole = json.loads(first.provider).get("kind") == "sandbox"
    return Stamp(run_id, first.flow, first.version,
                 (first.claimed, first.claimed_at, first.claimed_by), whole, branches)
