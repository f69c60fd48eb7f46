"""A presenter's reset: forget the demo apps' consents and the presenter's grants.

Consents are per demo user and app, so forgetting them brings the consent page back
for everyone's next run; nobody's tokens stop working because of that. Grants are
deleted only when the presenter's own runs hold one of their codes or tokens, so the
attendees' runs keep every token they were issued (RFC 6749 §10.5, §10.4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import select

from flowlab.core.storage.db import transaction
from flowlab.core.storage.sandbox_tables import codes
from flowlab.core.storage.sandbox_tables import consents
from flowlab.core.storage.sandbox_tables import grants
from flowlab.core.storage.sandbox_tables import tokens
from flowlab.sandbox.store import digest


@dataclass(frozen=True)
class Cleared:
    """What a reset removed, to tell the presenter."""

    consents: int
    grants: int


def reset_demo(
    conn: Connection, client_ids: Iterable[str], held: Iterable[str]
) -> Cleared:
    """Delete the consents to ``client_ids`` and the grants behind ``held`` secrets.

    :param client_ids: the demo apps' client ids; other apps are left alone.
    :param held: codes and tokens from the presenter's runs, in the clear.
    """
    apps = sorted(set(client_ids))
    hashes = sorted({digest(value) for value in held if value})
    with transaction(conn):
        cleared = conn.execute(
            delete(consents).where(consents.c.client_id.in_(apps))).rowcount
        grant_ids = sorted(_grants_holding(conn, hashes))
        removed = 0
        for start in range(0, len(grant_ids), 500):
            # Codes and tokens go with their grant (ON DELETE CASCADE).
            removed += conn.execute(delete(grants).where(
                grants.c.id.in_(grant_ids[start:start + 500]),
                grants.c.client_id.in_(apps))).rowcount
    return Cleared(cleared, removed)


def _grants_holding(conn: Connection, hashes: list[str]) -> set[int]:
    """The grants that issued any code or token among ``hashes``."""
    found: set[int] = set()
    for start in range(0, len(hashes), 500):  # some databases cap bound parameters
        chunk = hashes[start:start + 500]
        for column in (codes.c.code_hash, tokens.c.token_hash):
            rows = conn.execute(
                select(column.table.c.grant_id).where(column.in_(chunk)))
            found.update(rows.scalars())
    return found
