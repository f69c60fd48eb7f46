"""The pushed authorization request endpoint (RFC 9126 §2); the rules are in
``flowlab.sandbox.par``, what the authorize pages take from it in ``pushed``.

Like ``/api/token`` it takes no CSRF token: the client authenticates itself. An
issuer whose profile has ``par = "off"`` (the Spotify-like one) has no such
endpoint: 404, and no metadata field. A DPoP proof may come with the request
(RFC 9449 §10.1): checked first, as at the token endpoint.
"""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.sandbox import par
from flowlab.sandbox.dpop import ProofError
from flowlab.web.sandbox import proofs
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
    try:  # the proof first, as at the token endpoint (RFC 9449 §10.1, §8)
        jkt = proofs.par_jkt()
    except ProofError as exc:
        body = json.dumps({"error": exc.error, "error_description": exc.description})
        return Response(body, 400, {**NO_STORE, "Content-Type": "application/json",
                                    **proofs.nonce_header()})
    server = oauth_server()
    headers, body, status = par.push(server, request.url, issuer() + "/authorize",
                                     form_body(), dict(request.headers), jkt)
    headers = {**headers, **NO_STORE, "Content-Type": "application/json",
               **proofs.nonce_header()}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    return Response(body, status, headers)

