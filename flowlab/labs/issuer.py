"""Lab-only issuers: ``/sandbox/lab-<id>``, the sandbox with a lab's settings override.

Only a lab whose vulnerable variant says ``issuer = "lab"`` gets one, and only that
lab's own clients may use it: the sandbox's endpoints, metadata and apps are left as
they are. Overrides (the variant's ``server`` table) understood here:

- ``single_use_codes = false``: a used code is accepted again and nothing is
  revoked, as RFC 6749 §4.1.2 forbids (lab "code-replay").
- ``redirect_pattern = "<glob>"``: the issuer also serves the sandbox's authorize
  pages at its path, and accepts any redirect URI matching the pattern, as a server
  that lets clients register wildcards would (RFC 9700 §4.1.1; lab "redirect-uri").
"""

from __future__ import annotations

import fnmatch
import json
import time

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from oauthlib.oauth2.rfc6749 import errors

from ..sandbox import grants
from ..sandbox import views
from ..sandbox.context import caller
from ..sandbox.context import settings
from ..sandbox.profiles import Profile
from ..sandbox.server import RequestBoundValidator
from ..sandbox.server import SandboxServer
from ..sandbox.store import DB
from ..security import csrf_exempt
from .catalogue import Lab
from .client import credentials

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache",
            "Content-Type": "application/json"}


class LabValidator(RequestBoundValidator):
    """The sandbox's validator with one lab's override, for that lab's clients only."""

    def __init__(self, overrides: dict, clients: frozenset[str], *args) -> None:
        super().__init__(*args)
        self.overrides, self.clients = overrides, clients

    def authenticate_client(self, request, *args, **kwargs):
        """As the sandbox, then: only this lab's clients (RFC 6749 §2.3)."""
        super().authenticate_client(request, *args, **kwargs)
        if request.client.client_id not in self.clients:
            raise errors.InvalidClientError(
                description="Only this lab's clients may use its issuer",
                request=request)
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client: as the sandbox, then only this lab's (RFC 6749 §3.2.1)."""
        super().authenticate_client_id(client_id, request, *args, **kwargs)
        if request.client.client_id not in self.clients:
            raise errors.InvalidClientError(
                description="Only this lab's clients may use its issuer",
                request=request)
        return True

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """As the sandbox, then: only this lab's clients (RFC 6749 §4.1.2.1)."""
        super().validate_client_id(client_id, request, *args, **kwargs)
        if client_id not in self.clients:
            raise errors.InvalidClientIdError(
                description="Only this lab's clients may use its issuer",
                request=request)
        return True

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """With ``redirect_pattern``, any URI the pattern matches (the weakness
        RFC 9700 §4.1.1 describes); else the sandbox's exact rule."""
        pattern = self.overrides.get("redirect_pattern")
        if pattern and fnmatch.fnmatchcase(redirect_uri or "", pattern):
            return True
        return super().validate_redirect_uri(client_id, redirect_uri, request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """With ``single_use_codes = false``, a code is never refused as used
        (the vulnerability RFC 6749 §4.1.2 forbids)."""
        if self.overrides.get("single_use_codes", True):
            return super().validate_code(client_id, code, client, request)
        record = grants.find_code(self.conn, code)
        if (record is None or record.client_id != client.client_id
                or record.expires_at <= time.time()
                or request.redirect_uri != record.redirect_uri):
            raise errors.InvalidGrantError(description="Invalid authorization code",
                                           request=request)
        self._check_verifier(record, request)
        grants.claim_code(self.conn, code)  # marked used, but never checked
        request.code_record, request.user = record, record.user_id
        request.scopes, request.grant_id = record.scopes, record.grant_id
        return True


def _server(app: Flask, lab: Lab) -> SandboxServer:
    key = f"labs.issuer.{lab.id}"
    if key not in app.extensions:
        config = settings()
        variant = next(v for v in lab.variants.values() if v.issuer == "lab")
        clients = frozenset(credentials(app.config, lab.id, v.name)[0]
                            for v in lab.variants.values() if v.issuer == "lab")
        validator = LabValidator(variant.server, clients, config, DB.get, caller)
        app.extensions[key] = SandboxServer(validator, config.token_ttl)
    return app.extensions[key]


def _authorize_pages(app: Flask, lab: Lab) -> None:
    """The sandbox's authorize pages again at the lab's issuer path, answered by the
    lab's server; no metadata, and no sandbox profile lists it."""
    path = f"/sandbox/lab-{lab.id}"
    name = "sandbox_lab_" + lab.id.replace("-", "_")
    profile = Profile(id=f"lab-{lab.id}", path=path, name=f"Lab issuer: {lab.title}",
                      label="lab only, vulnerable")
    app.extensions["sandbox_profiles"].by_endpoint[name] = profile
    app.register_blueprint(views.bp, name=name, url_prefix=path)
    with app.app_context():
        app.extensions.setdefault("sandbox_servers", {})[profile.id] = _server(app, lab)


def blueprint(labs: dict[str, Lab]) -> Blueprint:
    """Token endpoints of the labs that have their own issuer, and authorize pages
    for those whose override is about redirect URIs."""
    bp = Blueprint("lab_issuers", __name__, url_prefix="/sandbox")
    paged = [lab for lab in labs.values() if any(
        "redirect_pattern" in v.server for v in lab.variants.values())]
    bp.record_once(lambda state: [_authorize_pages(state.app, lab) for lab in paged])
    for lab in (lab for lab in labs.values() if lab.uses_lab_issuer()):

        @csrf_exempt
        def token(lab: Lab = lab) -> Response:
            """A lab's token endpoint (RFC 6749 §3.2, §4.1.3), labelled vulnerable."""
            form = request.get_data(as_text=True) if request.mimetype == (
                "application/x-www-form-urlencoded") else ""
            try:
                headers, body, status = _server(current_app, lab).create_token_response(
                    request.url, "POST", form, dict(request.headers))
            except errors.OAuth2Error as exc:
                headers, body, status = dict(exc.headers), exc.json, exc.status_code
            data = json.loads(body)
            data.pop("state", None)
            headers = {**headers, **NO_STORE, "X-Flowlab-Lab": "vulnerable issuer"}
            return Response(json.dumps(data), status, headers)

        bp.add_url_rule(f"/lab-{lab.id}/api/token", f"token_{lab.id}".replace(
            "-", "_"), token, methods=["POST"])
    return bp
