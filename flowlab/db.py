"""SQLite access shared by the sandbox store and the run store.

Each store owns one file and one schema. Connections are opened per app context
(one per request), in WAL mode, so several threads and several worker processes can
share a file safely.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from flask import Flask
from flask import current_app
from flask import g


def connect(path: str) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode with WAL, a busy timeout and foreign keys."""
    _make_private(path)
    conn = sqlite3.connect(path, timeout=15, isolation_level=None)
    conn.row_factory = sqlite3.Row
    _use_wal(conn)
    conn.execute("PRAGMA busy_timeout=15000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _make_private(path: str) -> None:
    """Only this user may read the file: it holds digests of secrets and whole runs.

    A new file is created 0600; SQLite gives its -wal and -shm files the same mode.
    Files left readable by an older version are narrowed to 0600 here.
    """
    if path.startswith((":", "file:")):  # in-memory or a URI: nothing on disk here
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:  # not there (yet), or not ours to change
            continue


def _use_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch the file to WAL once; it stays WAL for every later connection.

    Switching needs an exclusive lock and SQLite answers "locked" at once, without
    its busy handler, when two processes create the same new file together: retry.
    """
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


class Database:
    """One SQLite file named by a config key, with its schema applied at start-up."""

    def __init__(self, config_key: str, schema: Path) -> None:
        self.config_key = config_key
        self.schema = schema

    def init_app(self, app: Flask) -> None:
        with connect(app.config[self.config_key]) as conn:
            conn.executescript(self.schema.read_text())
        app.teardown_appcontext(self._close)

    def get(self) -> sqlite3.Connection:
        """The connection for this app context, opened on first use."""
        conn = g.get(self.config_key)
        if conn is None:
            conn = connect(current_app.config[self.config_key])
            setattr(g, self.config_key, conn)
        return conn

    def _close(self, exc: BaseException | None = None) -> None:
        conn = g.pop(self.config_key, None)
        if conn is not None:
            conn.close()


def transaction(conn: sqlite3.Connection):
    """``with transaction(conn):`` runs the block as one IMMEDIATE transaction."""
    return _Transaction(conn)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
