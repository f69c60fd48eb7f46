"""A presenter's reset: forget the demo apps' consents and the presenter's grants.

Consents are per demo user and app, so forgetting them brings the consent page back
for everyone's next run; nobody's tokens stop working because of that. Grants are
deleted only when the presenter's own runs hold one of their codes or tokens, so the
attendees' runs keep every token they were issued (RFC 6749 §10.5, §10.4).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ..db import transaction
from .store import digest


@dataclass(frozen=True)
class Cleared:
    """What a reset removed, to tell the presenter."""

    consents: int
    grants: int


def reset_demo(
    conn: sqlite3.Connection, client_ids: Iterable[str], held: Iterable[str]
) -> Cleared:
    """Delete the consents to ``client_ids`` and the grants behind ``held`` secrets.

    :param client_ids: the demo apps' client ids; other apps are left alone.
    :param held: codes and tokens from the presenter's runs, in the clear.
    """
    apps = sorted(set(client_ids))
    hashes = sorted({digest(value) for value in held if value})
    marks = ", ".join("?" * len(apps))
    with transaction(conn):
        consents = conn.execute(
            f"DELETE FROM consents WHERE client_id IN ({marks})", apps).rowcount
        grant_ids = _grants_holding(conn, hashes) if hashes else set()
        grants = 0
        for grant_id in sorted(grant_ids):
            # Codes and tokens go with their grant (ON DELETE CASCADE).
            grants += conn.execute(
                f"DELETE FROM grants WHERE id = ? AND client_id IN ({marks})",
                (grant_id, *apps)).rowcount
    return Cleared(consents, grants)


def _grants_holding(conn: sqlite3.Connection, hashes: list[str]) -> set[int]:
    """The grants that issued any code or token among ``hashes``."""
    found: set[int] = set()
    for start in range(0, len(hashes), 500):  # SQLite caps bound parameters
        chunk = hashes[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for table, column in (("codes", "code_hash"), ("tokens", "token_hash")):
            rows = conn.execute(
                f"SELECT grant_id FROM {table} WHERE {column} IN ({marks})", chunk)
            found.update(row[0] for row in rows)
    return found
