"""The advisor: questions in, a recommended flow out (HTML and JSON)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("advisor", __name__)
