"""The sandbox provider's web side: its pages, endpoints and commands.

``init_app`` builds the app's :class:`~flowlab.sandbox.public.Sandbox` (the
Flask-free authorization server), migrates its tables, seeds the demo apps and
registers the blueprints under ``/sandbox`` and the ``flask sandbox`` commands. A
second issuer, "best practice", serves the same blueprints under its own path with
its own settings (``content/sandbox/profiles.toml``); an issuer added through
``Sandbox.add_issuer`` (a lab's) is served as it comes (``issuers``).
"""

from __future__ import annotations

import logging

from flask import Flask

from flowlab.core.demo import all_demo_apps
from flowlab.sandbox import store
from flowlab.sandbox.public import Sandbox
from flowlab.web.sandbox import api
from flowlab.web.sandbox import cli
from flowlab.web.sandbox import context
from flowlab.web.sandbox import cors
from flowlab.web.sandbox import dashboard
from flowlab.web.sandbox import device_page
from flowlab.web.sandbox import endpoints
from flowlab.web.sandbox import issuers
from flowlab.web.sandbox import oidc
from flowlab.web.sandbox import par
from flowlab.web.sandbox import profilepage
from flowlab.web.sandbox import received
from flowlab.web.sandbox import registration
from flowlab.web.sandbox import resource
from flowlab.web.sandbox import views


def init_app(app: Flask) -> None:
    store.DB.init_app(app)
    # The engine's pool keeps connections open, so SQLite does not checkpoint and
    # remove the WAL each time a request closes the last one.
    with store.DB.connection(app) as conn:
        store.seed_demo_apps(conn, all_demo_apps(app.config))
    sandbox = app.extensions["sandbox"] = Sandbox(app.config, context.caller)
    # oauthlib logs codes and tokens at DEBUG: keep its records above that.
    logging.getLogger("oauthlib").setLevel(logging.INFO)
    for module in (views, endpoints, api, dashboard, device_page, profilepage, oidc,
                   par, registration):
        app.register_blueprint(module.bp)
    token_paths = sandbox.profiles.token_paths()
    # A browser app's own token (and pushed, RFC 9126) request.
    cors.init_app(app, token_paths + sandbox.profiles.par_paths())
    received_bp = received.init_app(app, token_paths)
    # Each profile's issuer: the same blueprints under its own path, and its
    # metadata where RFC 8414 §3.1 puts it (the issuer's path after the segment).
    issuers.register(app, sandbox.profiles,
                     (views.bp, endpoints.bp, api.bp, received_bp, device_page.bp,
                      oidc.bp, par.bp, registration.bp),
                     endpoints.server_metadata)
    resource.register(app, sandbox.profiles)  # RFC 9728 metadata, jwks_uri
    sandbox.on_issuer(lambda added: issuers.mount(app, sandbox.profiles, added))
    app.cli.add_command(cli.cli)
