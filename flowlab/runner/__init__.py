"""The live runner: flows as data, a step engine, runs kept in SQLite."""

from __future__ import annotations

import logging
from contextlib import closing

from flask import Flask

from ..credentials import IdleStore
from ..db import connect
from .flows import load_flows
from .store import db

SCHEMA_VERSION = 3  # as set by schema.sql


def init_app(app: Flask) -> None:
    """Open the run store and load the flows from the app's content."""
    with closing(connect(app.config["RUNS_DATABASE"])) as conn:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.execute("DROP TABLE IF EXISTS runs")  # runs only last a day
    db.init_app(app)
    app.extensions["run_secrets"] = IdleStore()
    app.extensions["flows"] = load_flows(app.extensions["content"])
    # requests-oauthlib logs tokens and secrets at DEBUG: keep those loggers quiet.
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
