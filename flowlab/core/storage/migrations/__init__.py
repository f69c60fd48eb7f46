"""Alembic migrations, applied at start-up by every process, one process at a time.

Two branches share one script folder: ``sandbox`` (the provider's tables) and
``lab`` (runs, and the lab's other state). With one ``DATABASE_URL`` both live in
one database and ``alembic_version`` holds a row per branch; with the default SQLite
files each file holds its own branch. A new revision names the branch's latest one
as its ``down_revision``. The upgrade runs on a connection inside one write
transaction (``flowlab.core.storage.db.migrate`` opens it) and first takes a lock (BEGIN
IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so a second process starting
at the same moment waits, then finds nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy import text

HERE = Path(__file__).resolve().parent
LOCK_KEY = 0x466C6F774C6162  # "FlowLab": the advisory lock of every migration


def upgrade(conn: Connection, branch: str) -> None:
    """Bring ``branch``'s tables to its newest revision (idempotent), in the write
    transaction open on ``conn``."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    config.attributes["connection"] = conn
    command.upgrade(config, f"{branch}@head")
