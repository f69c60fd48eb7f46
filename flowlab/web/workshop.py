"""Workshop mode: the address attendees open, and large type for a projector."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request

from flowlab.core.hosts import safe_next
from flowlab.web.session import app_config

bp = Blueprint("workshop", __name__)
LARGE_TYPE_COOKIE = "flowlab_large_type"
SWITCHED = "type-switched"  # the flash category of "Large type is on."


def template_context() -> dict:
    """Whether this browser asked for large type (``base.html``)."""
    return {"large_type": request.cookies.get(LARGE_TYPE_COOKIE) == "1"}


@bp.get("/workshop")
def show():
    address = (app_config().get("PUBLIC_URL") or request.host_url).rstrip("/")
    loopback = request.host.split(":")[0] in ("127.0.0.1", "[::1]", "localhost")
    return render_template("workshop.html", address=address,
                           loopback_only=loopback and not
                           app_config().get("PUBLIC_URL"))


@bp.post("/workshop/large-type")
def large_type():
    """Switch large type on or off for this browser, then go back where it was."""
    response = make_response(redirect(safe_next(request.form.get("next"),
                                                "/workshop"), 303))
    on = request.form.get("on") == "1"
    # The page reloads: the message says what changed, and the workshop page puts
    # the keyboard focus back on the switch (templates/workshop.html).
    flash("Large type is on." if on else "Normal type is back.", SWITCHED)
    if on:
        response.set_cookie(LARGE_TYPE_COOKIE, "1", max_age=86400, httponly=True,
                            samesite="Lax")
    else:
        response.delete_cookie(LARGE_TYPE_COOKIE)
    return response
