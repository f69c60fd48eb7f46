"""The sandbox provider: an embedded OAuth 2.0 server that imitates Spotify's."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
