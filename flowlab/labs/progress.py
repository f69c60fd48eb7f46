"""The labs' rows for the room's scoreboard (``flowlab.core.scoreboard``).

A lab run lasts an hour and a browser's new run of a variant replaces its last
one, so what the wire showed is kept apart, one small row per run: who, which lab
and variant, when it started, its verdict and since when. The lab page notes it
whenever it shows a verdict, and the scoreboard reads every run changed since it
last looked, so an attack finished while nobody looked is counted too.

Started: the attendee started a run of either variant. Solved: the wire showed both
halves of the lab, the attack succeeding against the vulnerable variant and failing
against the defended one (RFC 9700 §4: the attack, then its defence); solved at the
later of the two. A run against the learner's own weak server ("yours") counts as
started, and as the half its wire showed: the attack working with a switch on, or
stopped with it off, is the same lesson as the vulnerable or defended run.
"""

from __future__ import annotations

import time

from sqlalchemy import case
from sqlalchemy import select

from flowlab.core.scoreboard import Row
from flowlab.core.scoreboard import Source
from flowlab.core.storage.db import LAB
from flowlab.core.storage.db import upsert
from flowlab.core.storage.tables import lab_progress
from flowlab.core.storage.tables import lab_runs
from flowlab.labs.store import Run

# The verdict each variant must show for its half of the lab to be done.
DONE = {"vulnerable": "succeeded", "defended": "failed"}
# The half of the lab a (variant, verdict) shows.
HALVES = {**{(variant, said): variant for variant, said in DONE.items()},
          ("yours", "succeeded"): "vulnerable", ("yours", "failed"): "defended"}


def observe(run: Run, verdict: bool | None) -> None:
    """Keep ``run``'s start and its verdict now (True: the attack succeeded);
    the time a verdict was first seen stays until the verdict changes."""
    said = None if verdict is None else "succeeded" if verdict else "failed"
    values = {"run": run.id, "browser": run.browser, "lab": run.lab,
              "variant": run.variant, "started": run.created, "verdict": said,
              "decided": time.time() if said else None}
    changed = lab_progress.c.verdict.is_distinct_from(said)
    upsert(LAB.get(), lab_progress, values, ("run",), lambda new: {
        "verdict": new.verdict,
        "decided": case((changed, new.decided), else_=lab_progress.c.decided)})


class LabProgress:
    """The labs as one scoreboard source; remembers which run versions it judged."""

    def __init__(self, labs) -> None:
        self.labs = labs  # flowlab.labs.Labs
        self.judged: dict[str, int] = {}  # run id -> version judged (this process)

    def source(self) -> Source:
        titles = {lab.id: lab.title for lab in self.labs.catalogue.values()}
        return Source("lab", titles, self.rows)

    def rows(self, since: float) -> list[Row]:
        """One row per attendee and lab with a run started since ``since``."""
        self._judge_changed(since)
        found: dict[tuple, dict] = {}
        for row in LAB.get().execute(select(lab_progress).where(
                lab_progress.c.started >= since)).mappings():
            kept = found.setdefault((row["lab"], row["browser"]), {})
            kept["started"] = min(kept.get("started", row["started"]), row["started"])
            half = HALVES.get((row["variant"], row["verdict"]))
            if half:
                kept[half] = min(kept.get(half) or row["decided"], row["decided"])
        return [(lab, browser, kept["started"], _solved(kept))
                for (lab, browser), kept in found.items()]

    def _judge_changed(self, since: float) -> None:
        """Note the verdict of every stored run saved since it was last judged."""
        stored = dict(LAB.get().execute(select(lab_runs.c.id, lab_runs.c.version)
                                        .where(lab_runs.c.created >= since)).all())
        self.judged = {k: v for k, v in self.judged.items() if k in stored}
        for run_id in [k for k, v in stored.items() if self.judged.get(k) != v]:
            run = self.labs.store.get(run_id)
            if run is not None and run.lab in self.labs.catalogue:
                observe(run, self.labs.actions(run.lab).succeeded(run))
                self.judged[run_id] = run.version


def _solved(kept: dict) -> float | None:
    halves = [kept.get(variant) for variant in DONE]
    return max(halves) if all(halves) else None
