"""The ``flask sandbox`` commands: register an app from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from flowlab.sandbox import store
from flowlab.sandbox.registration import DEFAULT_GRANTS
from flowlab.sandbox.registration import AppForm
from flowlab.sandbox.registration import check_new_app
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import config

cli = AppGroup("sandbox", help="Manage the sandbox provider's apps.")


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
    form = AppForm(name=name, redirect_uris="\n".join(redirect_uris),
                   kind="public" if public else "confidential",
                   grants=list(dict.fromkeys(grants or DEFAULT_GRANTS)))
    settings = config()
    check_new_app(form, catalogue().grants, settings.get("PUBLIC_URL"))
    if form.errors:
        messages = [m for field in form.errors.values() for m in field]
        raise click.UsageError("\n".join(messages))
    client, secret = store.create_client(
        store.DB.get(), settings, name=form.name.strip(),
        redirect_uris=form.uris, confidential=not public, grant_types=form.grants,
    )
    data = {"client_id": client.client_id, "name": client.name,
            "confidential": client.confidential,
            "grant_types": list(client.grant_types),
            "redirect_uris": list(client.redirect_uris)}
    if secret:
        data["client_secret"] = secret
    click.echo(json.dumps(data, indent=2))
