"""The device grant's verification page (RFC 8628 §3.3; not in Spotify).

The user types the code the device shows, signs in if needed, checks which app asks
and agrees or cancels. Wrong codes are counted per address and minute, and refused
past a limit, since a short code can be guessed (RFC 8628 §5.1).
"""

from __future__ import annotations

import time

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from oauthlib.common import Request

from flowlab.sandbox import consents
from flowlab.sandbox.clientauth import presented_credentials
from flowlab.sandbox.device import decide
from flowlab.sandbox.device import find_pending
from flowlab.sandbox.device import normalize
from flowlab.sandbox.device import started
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import get_client
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import config
from flowlab.web.sandbox.context import current_user
from flowlab.web.sandbox.context import oauth_server
from flowlab.web.sandbox.context import settings
from flowlab.web.sandbox.views import login_page

bp = Blueprint("sandbox_device", __name__, url_prefix="/sandbox")
PENDING_KEY = "sandbox_device"


def mark() -> str:
    """This issuer's mark on its codes (``profiles.toml``)."""
    return settings().token_prefix


def client_of(form: str) -> str:
    """The client a successful device request came from (RFC 6749 §3.2.1)."""
    sent = Request(request.url, "POST", form, dict(request.headers))
    return presented_credentials(sent)[0]


@bp.get("/device")
def enter():
    """Step 2 on the phone: the page at ``verification_uri`` (RFC 8628 §3.3)."""
    return _entry_page(request.args.get("user_code", ""))


@bp.post("/device")
def check():
    """The typed user code: a live one leads on, a wrong one is counted (§5.1)."""
    typed = request.form.get("user_code", "")
    key = f"user-code|{request.remote_addr}"
    conn = DB.get()
    limit = int(config()["SANDBOX_USER_CODE_FAILURES_PER_MINUTE"])
    if consents.failures(conn, key) >= limit:
        return _entry_page(typed, "Too many wrong codes. Wait a minute, then try"
                           " again with the code your device shows."), 429
    row = _ours(find_pending(conn, typed, mark()))
    if row is None:
        consents.record_failure(conn, key)
        return _entry_page(typed, "That code is wrong, used or expired. Check the"
                           " code on your device."), 400
    code = normalize(typed)
    shown = f"{code[:4]}-{code[4:]}"
    session[PENDING_KEY] = {"hash": row["device_hash"], "code": shown}
    return redirect(url_for(".approve"), 303)


@bp.get("/device/approve")
def approve():
    """Sign in, then the consent page, naming the app and the code, where and
    when the device asked, and whether the user started it (§5.4,
    draft-ietf-oauth-cross-device-security); a lab issuer may show less."""
    pending, client, row = _pending()
    if pending is None:
        return redirect(url_for(".enter"), 303)
    user = current_user()
    if user is None:
        return login_page(None)
    return render_template(
        "sandbox/device_consent.html", user=user, client=client,
        scopes=catalogue().describe(row["scopes"].split()),
        user_code=pending["code"], started=started(row, time.time()),
        context=oauth_server().request_validator.device_context(),
    )


@bp.post("/device/approve")
def answer():
    """Record Agree or Cancel; the device hears it at its next poll (§3.5)."""
    pending, _, _ = _pending()
    user = current_user()
    if pending is None or user is None:
        return redirect(url_for(".enter"), 303)
    agree = request.form.get("decision") == "agree"
    recorded = decide(DB.get(), pending["hash"], user["id"], agree)
    session.pop(PENDING_KEY, None)
    return render_template("sandbox/device_done.html", agreed=agree,
                           recorded=recorded)


def _pending():
    """This browser's code in progress, its app and its row; Nones if none is
    live."""
    pending = session.get(PENDING_KEY)
    row = _ours(find_pending(DB.get(), pending["code"], mark())) if pending else None
    if row is None or row["device_hash"] != pending["hash"]:
        session.pop(PENDING_KEY, None)
        return None, None, None
    return pending, get_client(DB.get(), row["client_id"]), row


def _ours(row):
    """The row, if this issuer's pages serve its client (a lab issuer's only its
    own clients); else None."""
    validator = oauth_server().request_validator
    if row is None or not validator.serves_client(row["client_id"]):
        return None
    return row


def _entry_page(typed: str, error: str | None = None):
    return render_template("sandbox/device.html", user_code=typed, error=error)
