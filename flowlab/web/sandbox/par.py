"""The pushed authorization request endpoint (RFC 9126 §2); the rules are in
``flowlab.sandbox.par``, what the authorize pages take from it in ``pushed``.

Like ``/api/token`` it takes no CSRF token: the client authenticates itself. An
issuer whose profile has ``par = "off"`` (the Spotify-like one) has no such
endpoint: 404, and no metadata field.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.sandbox import par
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import oauth_server
from flowlab.web.sandbox.context import settings
from flowlab.web.sandbox.endpoints import NO_STORE
from flowlab.web.sandbox.endpoints import form_body
from flowlab.web.security import csrf_exempt

bp = Blueprint("sandbox_par", __name__, url_prefix="/sandbox")


@bp.post("/api/par")
@csrf_exempt
def push():
    """Push an authorization request; 201 with its ``request_uri`` (§2.1, §2.2)."""
    if settings().par == "off":
        abort(404)
    server = oauth_server()
    headers, body, status = par.push(server, request.url, issuer() + "/authorize",
                                     form_body(), dict(request.headers))
    headers = {**headers, **NO_STORE, "Content-Type": "application/json"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    return Response(body, status, headers)

