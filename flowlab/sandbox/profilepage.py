"""The page that sets the sandbox's two profiles side by side, from data only.

The table comes from ``content/sandbox/profile-differences.toml``; each row names
the RFC sections behind it (RFC 9700, OAuth 2.1, RFC 9207, RFC 6749 §5.2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from flask import Blueprint
from flask import current_app
from flask import render_template

from flowlab.core.content import render_markdown

bp = Blueprint("sandbox_profiles", __name__, url_prefix="/sandbox")


def load(folder: Path) -> dict:
    """The differences file: ``intro`` and one ``[[difference]]`` per topic."""
    with open(folder / "profile-differences.toml", "rb") as f:
        return tomllib.load(f)


@bp.record_once
def _load(state) -> None:
    folder = Path(state.app.config["CONTENT_DIR"]) / "sandbox"
    state.app.extensions["sandbox_differences"] = load(folder)


@bp.app_template_global()
def sandbox_profiles() -> tuple:
    """Every sandbox issuer's profile, the default first (``profiles.toml``)."""
    return current_app.extensions["sandbox_profiles"].all


@bp.app_template_global()
def sandbox_differences(moment: str | None = None) -> list[dict]:
    """The differences that show at a comparison ``moment`` (all if None)."""
    rows = current_app.extensions["sandbox_differences"]["difference"]
    return [row for row in rows if moment is None or moment in row["moments"]]


@bp.get("/profiles")
def index():
    """Spotify today beside best practice: one row per difference."""
    found = current_app.extensions["sandbox_profiles"]
    return render_template(
        "sandbox/profiles.html", data=current_app.extensions["sandbox_differences"],
        profiles=found.all, md=render_markdown,
    )
