"""Storage through SQLAlchemy Core: one engine per database, chosen in ``create_app``.

``FLOWLAB_DATABASE_URL`` (config ``DATABASE_URL``) names one database for all state,
e.g. ``postgresql://flowlab@db.internal/flowlab``. Unset, the sandbox and the lab each
keep a SQLite file under ``instance/`` (``SANDBOX_DATABASE``, ``RUNS_DATABASE``), so
``make run`` needs nothing but Python. Two handles reach them: ``SANDBOX`` (apps,
grants, codes, tokens, consents) and ``LAB`` (runs, and any other state of the lab).
``create_app`` says where a request keeps its connections (``use_scope``; the web
side's ``flowlab.web.connections``): this module knows nothing of requests.

To keep new state: declare its table on ``flowlab.core.storage.tables.metadata``
(the sandbox's are in ``sandbox_tables``), add an Alembic revision on the ``lab``
branch (``flowlab/core/storage/migrations/versions/``), then use ``LAB.get()`` in a
request or ``with LAB.connection(app) as conn`` outside one, and
``with transaction(conn):`` around statements that must commit together.

Connections run in autocommit, so a single statement is atomic on its own (the
update-where-version and claim-where-unused idioms need nothing more), and
``transaction`` opens a write transaction: BEGIN IMMEDIATE on SQLite, so writers
queue on the busy timeout instead of failing when a read turns into a write.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import time
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import Table
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import make_url

from flowlab.core.storage.migrations import is_current
from flowlab.core.storage.migrations import upgrade

WRITE = "flowlab_write"  # set in a connection's info while ``transaction`` runs
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _after_fork() -> None:
    """A forked worker (gunicorn) must not share its parent's pooled connections."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def engine_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    """An engine in autocommit mode; on SQLite a private file in WAL mode."""
    parsed = make_url(engine_url(url))
    if parsed.get_backend_name() != "sqlite":
        # A pooled connection is pinged before use: after the server restarts, the
        # first request of each connection reconnects instead of failing.
        engine = create_engine(parsed, isolation_level="AUTOCOMMIT", pool_size=10,
                               max_overflow=30, pool_recycle=3600, pool_pre_ping=True)
    else:
        path = parsed.database or ""
        engine = create_engine(parsed, isolation_level="AUTOCOMMIT", pool_size=10,
                               max_overflow=50, connect_args={"timeout": 15})
        event.listen(engine, "do_connect", lambda *args: _make_private(path))
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin)
    _ENGINES.add(engine)
    return engine


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, record) -> None:
    _use_wal(dbapi_conn)
    dbapi_conn.execute("PRAGMA busy_timeout=15000")
    dbapi_conn.execute("PRAGMA foreign_keys=ON")
    dbapi_conn.execute("PRAGMA synchronous=NORMAL")


def _begin(conn: Connection) -> None:
    """Open the database transaction only for ``transaction`` (writes)."""
    if conn.info.get(WRITE):
        sqlite_ = conn.dialect.name == "sqlite"
        conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_ else "BEGIN")


def _make_private(path: str) -> None:
    """Only this user may read the file: it holds digests of secrets and whole runs.

    A new file is created 0600; SQLite gives its -wal and -shm files the same mode.
    Files left readable by an older version are narrowed to 0600 here.
    """
    if not path or path.startswith((":", "file:")):  # in memory or a URI
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


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """``with transaction(conn):`` commits the block as one write transaction."""
    if conn.info.get(WRITE):  # already inside one: join it
        yield conn
        return
    if conn.in_transaction():
        conn.commit()  # autocommit: this only closes SQLAlchemy's bookkeeping
    conn.info[WRITE] = True
    try:
        with conn.begin():
            yield conn
    finally:
        conn.info.pop(WRITE, None)


def migrate(engine: Engine, branch: str) -> None:
    """Bring ``branch``'s tables to its newest revision in one write transaction
    (``flowlab.core.storage.migrations``), unless a quick read finds it there."""
    with engine.connect() as conn:
        if is_current(conn, branch):
            return
    with engine.connect() as conn, transaction(conn):
        upgrade(conn, branch)


def insert_new(conn: Connection, table: Table, values: dict) -> bool:
    """INSERT unless a row with the same key is there; whether this one went in.
    RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT."""
    statement = _insert(conn, table).values(**values).on_conflict_do_nothing()
    first = next(iter(table.primary_key.columns))
    return conn.execute(statement.returning(first)).first() is not None


def _insert(conn: Connection, table: Table):
    """``conn``'s dialect's INSERT (ON CONFLICT); PostgreSQL's loaded only if used."""
    name = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{name}").insert(table)


def upsert(conn: Connection, table: Table, values: dict, keys: tuple[str, ...],
           changes: Callable) -> None:
    """INSERT, or on a clash of ``keys`` UPDATE with ``changes(excluded)``."""
    statement = _insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=list(keys), set_=changes(statement.excluded)))


class Scope(Protocol):
    """Where the connections of the unit of work running now are kept (a request's
    app context): ``get`` opens one on first use, ``close`` ends it."""

    def get(self, database: Database) -> Connection: ...

    def close(self, database: Database) -> None: ...


_scope: Scope | None = None


def use_scope(scope: Scope) -> None:
    """Say where ``Database.get`` finds the current connection (``create_app``)."""
    global _scope
    _scope = scope


class Database:
    """One store's database (a migration branch), reached through the app's engine."""

    def __init__(self, name: str, config_key: str) -> None:
        self.name = name
        self.config_key = config_key

    def init_app(self, app) -> None:
        """Make the engine and bring this store's tables to the newest revision;
        the connection of an app context is closed when it ends."""
        migrate(self.engine(app), self.name)
        app.teardown_appcontext(self._close)

    def url(self, app) -> str:
        return (app.config.get("DATABASE_URL")
                or "sqlite:///" + os.path.abspath(app.config[self.config_key]))

    def engine(self, app) -> Engine:
        """The app's engine for this store: one per URL, made on first use."""
        engines = app.extensions.setdefault("engines", {})
        url = self.url(app)
        if url not in engines:
            engines[url] = make_engine(url)
        return engines[url]

    def get(self) -> Connection:
        """The connection of the unit of work running now, opened on first use."""
        if _scope is None:
            raise RuntimeError("No scope keeps connections here (db.use_scope).")
        return _scope.get(self)

    @contextmanager
    def connection(self, app) -> Iterator[Connection]:
        """A connection outside any request (start-up, the CLI, tests)."""
        with self.engine(app).connect() as conn:
            yield conn

    def _close(self, exc: BaseException | None = None) -> None:
        if _scope is not None:
            _scope.close(self)


def dispose(app) -> None:
    """Close every pooled connection of the app (tests, before deleting a server)."""
    for engine in app.extensions.get("engines", {}).values():
        engine.dispose()


# The sandbox provider's rows, and the lab's own (runs); one database or two.
SANDBOX = Database("sandbox", "SANDBOX_DATABASE")
LAB = Database("lab", "RUNS_DATABASE")
