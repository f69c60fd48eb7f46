"""The page that sets the sandbox's two profiles side by side, from data only.

The table comes from ``content/sandbox/profile-differences.toml``; each row names
the RFC sections behind it (RFC 9700, OAuth 2.1, RFC 9207, RFC 6749 §5.2).
"""

from __future__ import annotations

from flask import Blueprint
from flask import render_template

from flowlab.core.content import render_markdown
from flowlab.web.sandbox.context import sandbox

bp = Blueprint("sandbox_profiles", __name__, url_prefix="/sandbox")


@bp.app_template_global()
def sandbox_profiles() -> tuple:
    """Every sandbox issuer's profile, the default first (``profiles.toml``)."""
    return sandbox().profiles.all


@bp.app_template_global()
def sandbox_differences(moment: str | None = None) -> list[dict]:
    """The differences that show at a comparison ``moment`` (all if None)."""
    rows = sandbox().differences["difference"]
    return [row for row in rows if moment is None or moment in row["moments"]]


@bp.get("/profiles")
def index():
    """Spotify today beside best practice: one row per difference."""
    found = sandbox()
    return render_template(
        "sandbox/profiles.html", data=found.differences, profiles=found.profiles.all,
        md=render_markdown,
    )
