"""The back-channel endpoints: token, revocation, introspection, metadata, demo clock.

Every token response is JSON with ``Cache-Control: no-store`` and ``Pragma: no-cache``
(RFC 6749 §5.1). Errors follow Spotify (wire spec §4B), including 400 for
``invalid_client`` where RFC 6749 §5.2 says 401 for Basic: the deviation is a lesson.
Revocation and introspection are not in Spotify; they follow RFC 7009 and RFC 7662.
"""

from __future__ import annotations

import json
from functools import partial
from urllib.parse import parse_qs

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.sandbox import device
from flowlab.sandbox import grants
from flowlab.sandbox.bearer import bearer_challenge
from flowlab.sandbox.dpop import ProofError
from flowlab.sandbox.server import call
from flowlab.sandbox.server import spotify_token_error
from flowlab.sandbox.store import DB
from flowlab.web.sandbox import device_page
from flowlab.web.sandbox import proofs
from flowlab.web.sandbox.context import device_endpoint
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import oauth_server
from flowlab.web.sandbox.context import profile
from flowlab.web.sandbox.context import sandbox
from flowlab.web.sandbox.context import settings
from flowlab.web.security import csrf_exempt

bp = Blueprint("sandbox_endpoints", __name__, url_prefix="/sandbox")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON = "application/json"


def form_body() -> str:
    """The body if form-encoded; anything else counts as empty (RFC 6749 §3.2)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return ""
    return request.get_data(cache=True, as_text=True)


def _call(endpoint, form: str) -> tuple[dict, str, int]:
    """Run an oauthlib endpoint on this request's URL, form and headers."""
    return call(endpoint, request.url, form, dict(request.headers))


def _respond(headers: dict, body: str, status: int, basic_realm: bool,
             always: bool = False) -> Response:
    """The answer; a Basic challenge when ``basic_realm`` and Basic was used, or
    ``always`` (a 401 names the scheme to use, RFC 6749 §5.2)."""
    headers = {**NO_STORE, "Content-Type": JSON, **headers}
    headers.pop("WWW-Authenticate", None)
    if basic_realm and (always or request.headers.get(
            "Authorization", "").lower().startswith("basic")):
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    if status == 429:
        headers["Retry-After"] = "60"
    return Response(body, status, headers)


@bp.route("/api/token", methods=["GET", "POST"])
@csrf_exempt
def token():
    """Step 3: the token request (RFC 6749 §3.2, §4.1.3, §4.4.2, §6)."""
    if request.method != "POST":
        body = json.dumps(
            {"error": "invalid_request", "error_description": "Use POST"}
        )
        return _respond({"Allow": "POST"}, body, 405, False)
    form = form_body()
    try:  # the proof first: a refusal consumes nothing (RFC 9449 §4.3, §8)
        jkt = proofs.token_jkt()
    except ProofError as exc:
        body = json.dumps({"error": exc.error, "error_description": exc.description})
        return _respond({**proofs.nonce_header(), "Access-Control-Allow-Origin": "*"},
                        body, 400, False)
    endpoint = oauth_server().create_token_response
    if jkt:
        endpoint = partial(endpoint, credentials={"dpop_jkt": jkt})
    headers, body, status = _call(endpoint, form)
    headers.update(proofs.nonce_header())
    invalid_client = False
    if status >= 400:
        grant_type = parse_qs(form).get("grant_type", [None])[0]
        body, status = spotify_token_error(body, status, grant_type,
                                           settings().invalid_client_status)
        invalid_client = json.loads(body).get("error") == "invalid_client"
    headers["Access-Control-Allow-Origin"] = "*"
    return _respond(headers, body, status, invalid_client and status < 429,
                    always=status == 401)


@bp.post("/api/device")
@csrf_exempt
def device_authorization():
    """The device asks to start (RFC 8628 §3.1, §3.2; not in Spotify)."""
    if not settings().device_grant:
        abort(404)
    form = form_body()
    headers, body, status = _call(
        device_endpoint().create_device_authorization_response, form)
    if status == 200:  # oauthlib answers a dict and stores nothing
        body = json.dumps(device.save(DB.get(), body, device_page.client_of(form),
                                      device_page.mark(), request.remote_addr))
    return _respond(headers, body, status, status == 401)


@bp.post("/api/revoke")
@csrf_exempt
def revoke():
    """Revoke a token (RFC 7009 §2.1; not in Spotify)."""
    return _client_call(oauth_server().create_revocation_response)


@bp.post("/api/introspect")
@csrf_exempt
def introspect():
    """Describe a token (RFC 7662 §2; not in Spotify)."""
    return _client_call(oauth_server().create_introspect_response)


def _client_call(endpoint):
    """An endpoint that authenticates its caller and answers 401 when that fails."""
    headers, body, status = _call(endpoint, form_body())
    return _respond(headers, body, status, status == 401)


@bp.record_once
def _bench_hello(state) -> None:
    """``FLOWLAB_BENCH_HELLO=1`` only: a bare route on the same server, the ceiling
    that ``make bench`` measures every page against. Never there otherwise."""
    if state.app.config.get("BENCH_HELLO"):
        state.app.add_url_rule("/_bench/hello", "bench_hello", _hello)


def _hello() -> Response:
    return Response("hello", 200, {"Content-Type": "text/plain"})


@bp.get("/.well-known/oauth-authorization-server")
def server_metadata():
    """Authorization server metadata (RFC 8414 §3; not in Spotify)."""
    claims = sandbox().metadata(profile(), issuer())
    headers = {"Access-Control-Allow-Origin": "*", "Content-Type": JSON}
    return Response(json.dumps(claims, indent=2), 200, headers)


@bp.post("/demo/expire-token")
@csrf_exempt
def expire_token():
    """Demo control, not in Spotify: the bearer token expires now (RFC 6750 §3.1)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not grants.expire_access(DB.get(), value.strip()):
        error = {"error": {"status": 401, "message": "Invalid access token"}}
        challenge = {"WWW-Authenticate": bearer_challenge("Invalid access token")}
        return Response(json.dumps(error), 401,
                        {"Content-Type": JSON, **NO_STORE, **challenge})
    return Response(json.dumps({"expired": True}), 200, {"Content-Type": JSON})
