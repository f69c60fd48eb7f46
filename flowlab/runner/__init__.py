"""The live runner: flows as data, a step engine, runs kept in SQLite."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
