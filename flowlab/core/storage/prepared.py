"""The token endpoint's statements, compiled once and run on the DB-API cursor.

SQLAlchemy's per-execute work (caching keys, events, result objects) costs more
than SQLite itself on a request that makes three statements. :class:`Prepared`
compiles a Core statement once per dialect and hands its SQL straight to the
driver on the connection that ``Database.get`` gave: the same SQL, parameters
and transaction as ``conn.execute`` would use. Errors are raised as SQLAlchemy's
(``OperationalError`` still answers 503), parameters hidden: they hold digests.

Only for statements whose values are plain ``str``, ``int`` and ``float`` (no bind
processors run) and whose ``IN`` lists are not expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from flowlab.core.storage.db import WRITE


class Prepared:
    """A Core statement, compiled on first use per dialect (``column_keys`` for an
    INSERT: the columns it sets)."""

    def __init__(self, statement, column_keys: tuple[str, ...] | None = None) -> None:
        self.statement, self.column_keys = statement, column_keys
        self._compiled: dict[str, tuple] = {}

    def _sql(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(
                dialect=dialect,
                column_keys=list(self.column_keys) if self.column_keys else None)
            fixed = {k: v for k, v in compiled.params.items() if v is not None}
            names = compiled.positiontup if compiled.positional else None
            found = self._compiled[dialect.name] = (compiled.string, names, fixed)
        return found

    def execute(self, conn: Connection, params: dict):
        """Run with ``params``; the driver's cursor."""
        sql, names, fixed = self._sql(conn.dialect)
        values = {**fixed, **params} if fixed else params
        if names is not None:
            values = [values[name] for name in names]
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        try:
            cursor.execute(sql, values)
        except conn.dialect.loaded_dbapi.Error as exc:
            _raise(conn, raw, cursor, sql, exc)
        return cursor

    def first(self, conn: Connection, params: dict) -> dict | None:
        """The first row as a dict of column names, or None."""
        cursor = self.execute(conn, params)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
        cursor.close()  # SQLite: the read ends now, not when collected
        return None if row is None else dict(zip(names, row, strict=True))

    def rows(self, conn: Connection, params: dict) -> list[tuple]:
        """Every row (an INSERT … RETURNING is only done once they are read)."""
        return self.execute(conn, params).fetchall()


def _raise(conn: Connection, raw, cursor, sql: str, exc: Exception):
    """SQLAlchemy's exception for a driver's (a lost connection is dropped)."""
    lost = conn.dialect.is_disconnect(exc, raw, cursor)
    if lost:
        conn.invalidate(exc)
    raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error,
                              hide_parameters=True, connection_invalidated=lost,
                              dialect=conn.dialect) from exc


@contextmanager
def written(conn: Connection) -> Iterator[Connection]:
    """``db.transaction`` for prepared statements: one write transaction (BEGIN
    IMMEDIATE on SQLite), or the one already open. Run nothing but prepared
    statements inside: ``conn.execute`` there would begin a second time."""
    if conn.info.get(WRITE):
        yield conn
        return
    sqlite_ = conn.dialect.name == "sqlite"
    _run(conn, "BEGIN IMMEDIATE" if sqlite_ else "BEGIN")
    conn.info[WRITE] = True
    try:
        yield conn
        _run(conn, "COMMIT")
    except BaseException:
        try:
            _run(conn, "ROLLBACK")
        except DBAPIError:  # gone, or nothing open any more: nothing to undo
            pass
        raise
    finally:
        conn.info.pop(WRITE, None)


def _run(conn: Connection, sql: str) -> None:
    raw = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
    except conn.dialect.loaded_dbapi.Error as exc:
        _raise(conn, raw, cursor, sql, exc)
