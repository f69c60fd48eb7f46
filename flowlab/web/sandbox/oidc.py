"""OpenID Connect's own endpoints, at every issuer whose profile has ``oidc = true``
(404 elsewhere, as at Spotify): discovery (OIDC Discovery §4), the JWK Set the
id_tokens verify with (RFC 7517 §5), and UserInfo (OIDC Core §5.3) with a Bearer
token (RFC 6750 §2.1) whose scope has ``openid``."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.sandbox.bearer import ApiError
from flowlab.sandbox.bearer import bearer_token
from flowlab.sandbox.issuers import issued_here
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import profile
from flowlab.web.sandbox.context import sandbox
from flowlab.web.sandbox.context import settings
from flowlab.web.security import csrf_exempt

bp = Blueprint("sandbox_oidc", __name__, url_prefix="/sandbox")
JSON = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}


def _json(data: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data, indent=2), status, {**JSON, **(headers or {})})


@bp.before_request
def _only_where_oidc_is_spoken():
    if not settings().oidc:
        abort(404)


@bp.after_request
def _cors(response: Response) -> Response:
    """A page may call UserInfo with its Bearer header (a preflight grants it)
    and read a 401's challenge (OIDC Core §5.3.3, RFC 6750 §3)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Headers"] = "Authorization"
    else:
        response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
    return response


@bp.get("/.well-known/openid-configuration")
def discovery():
    """OIDC Discovery §4: the same claims as the RFC 8414 metadata."""
    return _json(sandbox().metadata(profile(), issuer()))


@bp.route("/api/userinfo", methods=["GET", "POST"])
@csrf_exempt
def userinfo():
    """OIDC Core §5.3: claims about the user by the token's scopes (§5.4)."""
    header = request.headers.get("Authorization")
    try:
        record = bearer_token(DB.get(), header)
        token = header.partition(" ")[2].strip()
        if not issued_here(settings(), token) or record.user_id is None:
            raise ApiError(401, "Invalid access token")
    except ApiError as exc:
        return _refusal(exc.status, exc.token_error and (
            "invalid_request" if exc.status == 400 else "invalid_token"), exc.message)
    if "openid" not in record.scopes:
        return _refusal(403, "insufficient_scope", "The token has no openid scope",
                        ' scope="openid"')
    user = catalogue().users[record.user_id]
    return _json(catalogue().userinfo(user, record.scopes),
                 headers={"Cache-Control": "no-store"})


def _refusal(status: int, error: str | bool, text: str, extra: str = "") -> Response:
    """RFC 6750 §3: a challenge naming the error; none when no token came."""
    challenge = f'Bearer realm="{issuer()}"'
    body = {}
    if error:
        challenge += f', error="{error}", error_description="{text}"{extra}'
        body = {"error": error, "error_description": text}
    return _json(body, status, {"WWW-Authenticate": challenge})
