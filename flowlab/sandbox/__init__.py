"""The sandbox provider: an embedded OAuth 2.0 server that imitates Spotify's.

``init_app`` migrates the tables, seeds the demo apps, loads the demo data and
registers the blueprints under ``/sandbox`` and the ``flask sandbox`` commands. A
second issuer, "best practice", serves the same blueprints under its own path with
its own settings (``profiles``, ``content/sandbox/profiles.toml``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup

from flowlab.core.demo import all_demo_apps
from flowlab.sandbox import catalogue
from flowlab.sandbox import issuers as profiles
from flowlab.sandbox import store

cli = AppGroup("sandbox", help="Manage the sandbox provider's apps.")


def init_app(app: Flask) -> None:
    from flowlab.sandbox import api
    from flowlab.sandbox import cors
    from flowlab.sandbox import dashboard
    from flowlab.sandbox import device_page
    from flowlab.sandbox import endpoints
    from flowlab.sandbox import profilepage
    from flowlab.sandbox import received
    from flowlab.sandbox import views

    store.DB.init_app(app)
    # The engine's pool keeps connections open, so SQLite does not checkpoint and
    # remove the WAL each time a request closes the last one.
    with store.DB.connection(app) as conn:
        store.seed_demo_apps(conn, all_demo_apps(app.config))
    folder = Path(app.config["CONTENT_DIR"]) / "sandbox"
    app.extensions["sandbox"] = catalogue.load(folder)
    app.extensions["sandbox_profiles"] = profiles.load(folder / "profiles.toml")
    # oauthlib logs codes and tokens at DEBUG: keep its records above that.
    logging.getLogger("oauthlib").setLevel(logging.INFO)
    for module in (views, endpoints, api, dashboard, device_page, profilepage):
        app.register_blueprint(module.bp)
    for module in (cors, received):  # a browser app's own token request
        module.init_app(app)
    # Each profile's issuer: the same blueprints under its own path, and its
    # metadata where RFC 8414 §3.1 puts it (the issuer's path after the segment).
    profiles.register(app, app.extensions["sandbox_profiles"],
                      (views.bp, endpoints.bp, api.bp, received.bp, device_page.bp),
                      endpoints.server_metadata)
    app.cli.add_command(cli)


@cli.command("add-client")
@click.option("--name", required=True, help="The app's name.")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="A redirect URI; repeat for several. Needed for the"
              " authorization_code and implicit grants.")
@click.option("--public", is_flag=True, help="A public client (PKCE, no secret).")
@click.option("--grant", "grants", multiple=True, metavar="NAME",
              help="A grant the app may use, by its RFC 7591 name (e.g."
              " urn:ietf:params:oauth:grant-type:device_code); repeat for several."
              " Default: authorization_code and refresh_token.")
def add_client(name: str, redirect_uris: tuple[str, ...], public: bool,
               grants: tuple[str, ...]) -> None:
    """Register an app and print it as JSON (id, secret if confidential, grants,
    URIs)."""
    from flowlab.sandbox.registration import DEFAULT_GRANTS
    from flowlab.sandbox.registration import AppForm
    from flowlab.sandbox.registration import check_new_app

    form = AppForm(name=name, redirect_uris="\n".join(redirect_uris),
                   kind="public" if public else "confidential",
                   grants=list(dict.fromkeys(grants or DEFAULT_GRANTS)))
    check_new_app(form, current_app.extensions["sandbox"].grants)
    if form.errors:
        messages = [m for field in form.errors.values() for m in field]
        raise click.UsageError("\n".join(messages))
    with store.DB.connection(current_app) as conn:
        client, secret = store.create_client(
            conn, current_app.config, name=form.name.strip(),
            redirect_uris=form.uris, confidential=not public,
            grant_types=form.grants,
        )
    data = {"client_id": client.client_id, "name": client.name,
            "confidential": client.confidential,
            "grant_types": list(client.grant_types),
            "redirect_uris": list(client.redirect_uris)}
    if secret:
        data["client_secret"] = secret
    click.echo(json.dumps(data, indent=2))
