"""The live runner: flows as data, a step engine, runs kept in the lab's database."""

from __future__ import annotations

import logging

from flask import Flask

from ..credentials import RunSecrets
from . import actions  # noqa: F401  (registers every step action)
from . import device  # noqa: F401  (the device grant's action, RFC 8628)
from .flows import load_flows
from .store import db


def init_app(app: Flask) -> None:
    """Open the run store and load the flows from the app's content."""
    db.init_app(app)  # migrates the lab's tables (flowlab/migrations)
    app.extensions["run_secrets"] = RunSecrets()
    app.extensions["flows"] = load_flows(app.extensions["content"])
    # requests-oauthlib logs tokens and secrets at DEBUG: keep those loggers quiet.
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
