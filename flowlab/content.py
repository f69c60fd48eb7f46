"""Content: Markdown lessons and data files from ``content/``, loaded once."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
