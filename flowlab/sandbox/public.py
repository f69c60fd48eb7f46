"""What the rest of the app may use of the sandbox: this module, nothing else.

A lab that needs a weak authorization server asks :meth:`Sandbox.add_issuer` for an
issuer of its own: its profile (path, name) and a :class:`RequestValidator` subclass
that overrides the one check it weakens. The labs' clients live in the sandbox's
database (``DB``), their secrets kept as ``digest``s as every client's are.
"""

from __future__ import annotations

import json

from flask import Flask
from flask import Response
from flask import request

from flowlab.sandbox import views
from flowlab.sandbox.context import caller
from flowlab.sandbox.context import settings
from flowlab.sandbox.endpoints import form_body
from flowlab.sandbox.issuers import Profile as IssuerProfile
from flowlab.sandbox.server import SandboxServer
from flowlab.sandbox.server import call
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import digest
from flowlab.sandbox.validator import RequestValidator
from flowlab.web.security import csrf_exempt

__all__ = ["DB", "IssuerProfile", "RequestValidator", "Sandbox", "digest"]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache",
            "Content-Type": "application/json"}


class Sandbox:
    """The sandbox of one app, as other parts of it may extend it."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def issuer_path(self, profile_id: str) -> str:
        """Where a sandbox profile's issuer lives (``profiles.toml``)."""
        return self.app.extensions["sandbox_profiles"].get(profile_id).path

    def add_issuer(self, profile: IssuerProfile,
                   validator_cls: type[RequestValidator] | None = None, *,
                   pages: bool = False, headers: dict | None = None) -> None:
        """Serve another issuer at ``profile.path``: a token endpoint (RFC 6749
        §3.2) whose answers carry ``headers``, and with ``pages`` the authorize
        pages (§3.1). No metadata, and no sandbox profile lists it."""
        app = self.app
        with app.app_context():
            config = settings()
        validator = (validator_cls or RequestValidator)(config, DB.get, caller)
        server = SandboxServer(validator, config.token_ttl)
        app.extensions.setdefault("sandbox_servers", {})[profile.id] = server
        name = "sandbox_" + profile.id.replace("-", "_")
        if pages:
            app.extensions["sandbox_profiles"].by_endpoint[name] = profile
            app.register_blueprint(views.bp, name=name, url_prefix=profile.path)

        @csrf_exempt
        def token() -> Response:
            """The issuer's token endpoint (RFC 6749 §3.2, §4.1.3)."""
            answer, body, status = call(server.create_token_response, request.url,
                                        form_body(), dict(request.headers))
            data = json.loads(body)
            data.pop("state", None)
            answer = {**answer, **NO_STORE, **(headers or {})}
            return Response(json.dumps(data), status, answer)

        app.add_url_rule(profile.path + "/api/token", name + "_token", token,
                         methods=["POST"])
