"""Alembic migrations, applied at start-up by every process, one process at a time.

Two branches share one script folder: ``sandbox`` (the provider's tables) and
``lab`` (runs, and the lab's other state). With one ``DATABASE_URL`` both live in
one database and ``alembic_version`` holds a row per branch; with the default SQLite
files each file holds its own branch. A new revision names the branch's latest one
as its ``down_revision``. The upgrade runs on a connection inside one write
transaction (``flowlab.core.storage.db.migrate`` opens it) and first takes a lock (BEGIN
IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so a second process starting
at the same moment waits, then finds nothing left to do.

Most starts find nothing to do: ``is_current`` says so from ``alembic_version`` and
the revision files' text, and Alembic (a tenth of a second to import) is not loaded.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

HERE = Path(__file__).resolve().parent
LOCK_KEY = 0x466C6F774C6162  # "FlowLab": the advisory lock of every migration
_FIELD = re.compile(r"^(revision|down_revision|branch_labels) = (.+)$", re.MULTILINE)


@functools.cache
def heads() -> dict[str, str]:
    """Each branch's newest revision, read from the revision files without Alembic
    (a test checks it against Alembic's answer); {} for a layout it cannot read
    (a merge, a revision with two parents), and then Alembic decides."""
    parents, labels = {}, {}
    for path in (HERE / "versions").glob("*.py"):
        fields = dict(_FIELD.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(fields["revision"])
            parents[revision] = ast.literal_eval(fields["down_revision"])
            labels[revision] = ast.literal_eval(fields.get("branch_labels", "None"))
        except (KeyError, ValueError, SyntaxError):
            return {}
    if not all(isinstance(p, str | None) for p in parents.values()):
        return {}
    found = {}
    for head in set(parents) - set(parents.values()):
        root = head
        while parents.get(root) is not None:
            root = parents[root]
        if root not in parents or not labels[root]:
            return {}
        found[labels[root][0]] = head
    return found


def is_current(conn: Connection, branch: str) -> bool:
    """Whether ``branch``'s tables are at its newest revision already (no table of
    versions, or any doubt: False, and the upgrade finds out)."""
    head = heads().get(branch)
    if head is None:
        return False
    try:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return head in set(found)
    except DBAPIError:  # a new database: no alembic_version yet
        return False


def upgrade(conn: Connection, branch: str) -> None:
    """Bring ``branch``'s tables to its newest revision (idempotent), in the write
    transaction open on ``conn``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    config.attributes["connection"] = conn
    command.upgrade(config, f"{branch}@head")
