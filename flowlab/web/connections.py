"""Each app context's database connections: opened on first use, kept on
``flask.g``, closed when the context ends
(``flowlab.core.storage.db.Database.init_app``)."""

from __future__ import annotations

from flask import current_app
from flask import g
from sqlalchemy import Connection

from flowlab.core.storage.db import Database


class AppContextScope:
    """The ``flowlab.core.storage.db.Scope`` of a Flask app: one connection per
    database and app context (a request, a ``with app.app_context()`` block)."""

    def get(self, database: Database) -> Connection:
        key = "db_" + database.name
        conn = g.get(key)
        if conn is None:
            conn = database.engine(current_app).connect()
            setattr(g, key, conn)
        return conn

    def close(self, database: Database) -> None:
        conn = g.pop("db_" + database.name, None)
        if conn is not None:
            conn.close()
