"""The registration endpoint (RFC 7591 §3) and client configuration endpoint
(RFC 7592 §2) of the issuers whose profile has ``registration = true``.

JSON in and out, no CSRF token (an API for clients, like the token endpoint), and
``Cache-Control: no-store`` on every answer: it may carry a secret and the
registration access token (RFC 7591 §3.2.1). Elsewhere the routes answer 404.
"""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.core.hosts import is_loopback_host
from flowlab.sandbox import clientupdate
from flowlab.sandbox import registrations
from flowlab.sandbox.clientreg import RegistrationError
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import delete_client
from flowlab.web.sandbox.context import caller
from flowlab.web.sandbox.context import config
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import oauth_server
from flowlab.web.sandbox.context import settings
from flowlab.web.security import csrf_exempt

bp = Blueprint("sandbox_registration", __name__, url_prefix="/sandbox")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache",
            "Content-Type": "application/json"}


def _json(body: dict | None, status: int, **headers) -> Response:
    text = "" if body is None else json.dumps(body, indent=2)
    return Response(text, status, {**NO_STORE, **headers})


@bp.before_request
def _offered() -> None:
    if not settings().registration:
        abort(404)


@bp.post("/api/register")
@csrf_exempt
def register():
    """Register a client (RFC 7591 §3.1): 201 with its information (§3.2.1)."""
    body = request.get_json(silent=True) if request.is_json else None
    policy = oauth_server().request_validator  # an added issuer's may differ
    try:
        answer = registrations.register(
            DB.get(), config(), settings(), body, caller(),
            is_loopback_host(request.remote_addr), issuer(),
            policy.registration_owner())
    except registrations.TooMany as exc:
        return _json({"error": "temporarily_unavailable",
                      "error_description": str(exc)},
                     429, **{"Retry-After": str(exc.retry_after)})
    except RegistrationError as exc:
        return _json({"error": exc.error, "error_description": exc.description}, 400)
    answer.update(policy.registration_extras(body))
    location = answer["registration_client_uri"]
    return _json(answer, 201, Location=location)


@bp.route("/api/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@csrf_exempt
def manage(client_id: str):
    """Read, update or delete a registration with its registration access token,
    a Bearer token (RFC 7592 §2.1, §2.2, §2.3); anything else is 401 (RFC 6750
    §3.1)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    client = registrations.managed(DB.get(), client_id, token.strip()
                                   if scheme.lower() == "bearer" else None)
    if client is None:
        challenge = 'Bearer error="invalid_token"'
        return _json({"error": "invalid_token", "error_description":
                      "Send this registration's access token as a Bearer token."},
                     401, **{"WWW-Authenticate": challenge})
    if request.method == "DELETE":
        delete_client(DB.get(), client_id)
        return _json(None, 204)
    if request.method == "PUT":
        body = request.get_json(silent=True) if request.is_json else None
        try:
            answer = clientupdate.update(
                DB.get(), config(), settings(), client, body,
                is_loopback_host(request.remote_addr), issuer())
        except RegistrationError as exc:
            return _json({"error": exc.error,
                          "error_description": exc.description}, 400)
    else:
        answer = registrations.answer(config(), client, issuer())
    # RFC 7592 §3: the response carries the token; the one presented stays valid.
    return _json({**answer, "registration_access_token": token.strip()}, 200)
