"""A mini developer dashboard like Spotify's: create, inspect, edit and delete apps.

Each browser sees the two demo apps and the apps it made itself. Secrets are kept
hashed; an app's secret is derived from the app's key, so it can be shown again on
request (a POST, never in a URL) and rotated.
"""

from __future__ import annotations

import secrets

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from flowlab.sandbox import store
from flowlab.sandbox.registration import AppForm
from flowlab.sandbox.registration import check_new_app
from flowlab.sandbox.registration import check_uris
from flowlab.sandbox.registration import needs_redirect
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import config

bp = Blueprint("sandbox_dashboard", __name__, url_prefix="/sandbox/dashboard")
OWNER_KEY = "sandbox_owner"


def owner() -> str:
    """This browser's dashboard identity, made on first use."""
    if OWNER_KEY not in session:
        session[OWNER_KEY] = secrets.token_urlsafe(16)
    return session[OWNER_KEY]


def visible_app(client_id: str, editable: bool = False) -> store.Client:
    """An app this browser may see (or change), else 404 (or 403)."""
    client = store.get_client(DB.get(), client_id)
    if client is None or not (client.demo or client.owner == session.get(OWNER_KEY)):
        abort(404, description="No such app in your dashboard.")
    if editable and client.demo:
        abort(403, description="The demo apps are managed by the lab. "
              "Create your own app to try this.")
    return client


@bp.get("")
def index():
    """The app list and the create form."""
    return show_list(AppForm())


@bp.post("")
def create():
    """Register an app; on a mistake, show the form again with what was typed."""
    form = AppForm(
        name=request.form.get("name", ""),
        redirect_uris=request.form.get("redirect_uris", ""),
        kind=request.form.get("kind", ""),
        grants=list(dict.fromkeys(request.form.getlist("grant"))),
    )
    check_new_app(form, catalogue().grants, config().get("PUBLIC_URL"))
    if form.errors:
        return show_list(form), 400
    client, _ = store.create_client(
        DB.get(), config(), name=form.name.strip(), redirect_uris=form.uris,
        confidential=form.kind == "confidential", grant_types=form.grants,
        owner=owner(),
    )
    flash(f"App “{client.name}” created.", "success")
    return redirect(url_for(".app_details", client_id=client.client_id), 303)


def show_list(form: AppForm):
    apps = store.list_clients(DB.get(), session.get(OWNER_KEY))
    return render_template("sandbox/dashboard.html", apps=apps, form=form,
                           grants=catalogue().grants)


@bp.get("/apps/<client_id>")
def app_details(client_id: str):
    """One app: client id, masked secret, grants, redirect URIs."""
    client = visible_app(client_id)
    form = AppForm(redirect_uris="\n".join(client.redirect_uris))
    return details(client, form)


def details(client: store.Client, form: AppForm, secret: str | None = None):
    page = render_template(
        "sandbox/app.html", client=client, form=form, secret=secret,
        masked=client.confidential, grants=catalogue().grants,
        needs_redirect=needs_redirect(client.grant_types),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/apps/<client_id>/secret")
def reveal_secret(client_id: str):
    """Show the secret on request: a POST, so it never sits in a URL or history."""
    client = visible_app(client_id)
    form = AppForm(redirect_uris="\n".join(client.redirect_uris))
    return details(client, form, store.shown_secret(config(), client))


@bp.post("/apps/<client_id>/rotate")
def rotate_secret(client_id: str):
    """Make a new secret; the old one stops working at once."""
    client = visible_app(client_id, editable=True)
    if not client.confidential:
        abort(400, description="Public apps have no secret.")
    salt = secrets.token_hex(8)
    secret = store.derive_secret(config(), client.client_id, salt)
    store.update_client(
        DB.get(), client_id, secret_salt=salt, secret_hash=store.digest(secret)
    )
    flash("New client secret made. The old one no longer works.", "success")
    return redirect(url_for(".app_details", client_id=client_id), 303)


@bp.post("/apps/<client_id>/redirect-uris")
def edit_redirect_uris(client_id: str):
    """Replace the app's redirect URIs, keeping the typed text on a mistake."""
    client = visible_app(client_id, editable=True)
    form = AppForm(redirect_uris=request.form.get("redirect_uris", ""))
    check_uris(form, needs_redirect(client.grant_types),
               config().get("PUBLIC_URL"))
    if form.errors:
        page, _, headers = details(client, form)
        return page, 400, headers
    store.update_client(DB.get(), client_id, redirect_uris="\n".join(form.uris))
    flash("Redirect URIs saved.", "success")
    return redirect(url_for(".app_details", client_id=client_id), 303)


@bp.route("/apps/<client_id>/delete", methods=["GET", "POST"])
def delete_app(client_id: str):
    """Ask for confirmation, then delete the app with all its codes and tokens."""
    client = visible_app(client_id, editable=True)
    if request.method == "GET":
        return render_template("sandbox/delete.html", client=client)
    store.delete_client(DB.get(), client_id)
    flash(f"App “{client.name}” deleted.", "success")
    return redirect(url_for(".index"), 303)
