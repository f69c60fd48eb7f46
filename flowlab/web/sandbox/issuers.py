"""Serving the sandbox's issuers: each profile's blueprints under its own path
(RFC 8414 §2), and each issuer added through ``Sandbox.add_issuer`` (a lab's).

``Profiles.by_endpoint`` learns here which endpoint belongs to which issuer, so that
``context.profile()`` finds a request's issuer without asking which one it is.
"""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import request

from flowlab.sandbox.issuers import WELL_KNOWN
from flowlab.sandbox.issuers import IssuerProfiles
from flowlab.sandbox.public import AddedIssuer
from flowlab.sandbox.server import call
from flowlab.web.sandbox import device_page
from flowlab.web.sandbox import registration
from flowlab.web.sandbox import views
from flowlab.web.sandbox.endpoints import device_authorization
from flowlab.web.sandbox.endpoints import form_body
from flowlab.web.security import allow_framing
from flowlab.web.security import csrf_exempt

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache",
            "Content-Type": "application/json"}


def register(app: Flask, profiles: IssuerProfiles, blueprints: tuple[Blueprint, ...],
             metadata_view) -> None:
    """Serve each profile's issuer: the default profile's blueprints are already
    registered; every other profile gets them again under its own path. Every
    profile gets its RFC 8414 §3.1 metadata URL (the issuer's path after the
    well-known segment)."""
    default = profiles.default
    for profile in profiles.all:
        suffix = profile.endpoint_suffix(default)
        for bp in blueprints:
            name = bp.name + suffix
            profiles.by_endpoint[name] = profile
            if profile is not default:
                prefix = profile.path + bp.url_prefix.removeprefix(default.path)
                app.register_blueprint(bp, name=name, url_prefix=prefix)
        endpoint = "sandbox_rfc8414_metadata" + suffix
        profiles.by_endpoint[endpoint] = profile
        app.add_url_rule(WELL_KNOWN + profile.path, endpoint, metadata_view)


def mount(app: Flask, profiles: IssuerProfiles, added: AddedIssuer) -> None:
    """Serve an added issuer at its path: its token endpoint, and if it has pages
    its authorize pages, the device grant's and registration (``_pages``)."""
    profile, server = added.profile, added.server
    name = "sandbox_" + profile.id.replace("-", "_")
    if added.pages:
        _pages(app, profiles, added, name)

        def page_headers(response: Response) -> Response:
            """The added issuer's headers on its authorize pages' answers too."""
            response.headers.update(added.headers)
            return response

        # Its pages' blueprint's only: no other request runs it.
        app.after_request_funcs.setdefault(name, []).append(page_headers)

    @csrf_exempt
    def token() -> Response:
        """The issuer's token endpoint (RFC 6749 §3.2, §4.1.3)."""
        answer, body, status = call(server.create_token_response, request.url,
                                    form_body(), dict(request.headers))
        data = json.loads(body)
        data.pop("state", None)
        answer = {**answer, **NO_STORE, **added.headers}
        return Response(json.dumps(data), status, answer)

    app.add_url_rule(profile.path + "/api/token", name + "_token", token,
                     methods=["POST"])


def _pages(app: Flask, profiles: IssuerProfiles, added: AddedIssuer, name: str):
    """The browser pages of an added issuer: authorize (RFC 6749 §3.1), the device
    authorization endpoint and verification page (RFC 8628 §3.1, §3.3), and the
    registration endpoint where its profile offers it (RFC 7591 §3); framable only
    where its validator says so (a lab's weakness, RFC 9700 §4.16)."""
    profile, validator = added.profile, added.server.request_validator
    pages = (name, name + "_device_page", name + "_device", name + "_registration")
    for endpoint in pages:
        profiles.by_endpoint[endpoint] = profile
    app.register_blueprint(views.bp, name=pages[0], url_prefix=profile.path)
    app.register_blueprint(device_page.bp, name=pages[1], url_prefix=profile.path)
    app.register_blueprint(registration.bp, name=pages[3], url_prefix=profile.path)
    app.add_url_rule(profile.path + "/api/device", pages[2], device_authorization,
                     methods=["POST"])

    def framing() -> None:  # asked of each request's client, before any check
        if validator.may_frame_pages(request.args.get("client_id")):
            allow_framing()

    app.before_request_funcs.setdefault(pages[0], []).append(framing)
