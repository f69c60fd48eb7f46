"""Exercises graded from the wire (issue 20 §3), Flask-free.

The learner does the work with their own tools against the sandbox; each attempt
has an app of its own, the sandbox's answers to that app are recorded
(:mod:`~flowlab.exercises.traffic`), and the exercise's checks grade them
(:mod:`~flowlab.exercises.checks`). The web side (``flowlab.web.exercises``)
translates HTTP to these calls.
"""

from __future__ import annotations

from pathlib import Path

from flowlab.core.storage.db import LAB
from flowlab.exercises import attempts
from flowlab.exercises import catalogue
from flowlab.exercises.catalogue import Exercise
from flowlab.exercises.checks import KINDS

__all__ = ["Exercise", "load", "room_rows"]


def load(content_dir: str, profiles: set[str]) -> dict[str, Exercise]:
    """The exercises of ``content/exercises/``, checked against the sandbox's issuer
    profiles and the check kinds."""
    return catalogue.load(Path(content_dir) / "exercises", profiles, set(KINDS))


def room_rows(since: float, conn=None) -> list[tuple[str, str, float, float | None]]:
    """(exercise_id, attendee_key, started_at, solved_at) of every attempt started
    since ``since``; the attendee is the browser id when a browser started it, else
    the attempt id. ``conn`` defaults to the lab's connection of the request."""
    return attempts.room_rows(conn if conn is not None else LAB.get(), since)
