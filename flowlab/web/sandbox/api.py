"""A small Spotify-like Web API: the resource server the tokens are for.

``flowlab.sandbox.bearer`` checks the token (RFC 6750 §2.1). Errors use Spotify's
object ``{"error": {"status", "message"}}`` (wire spec §4C), and a 401 also names the
problem in ``WWW-Authenticate``, as Spotify does (RFC 6750 §3).
"""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import request

from flowlab.sandbox import grants
from flowlab.sandbox.bearer import ApiError
from flowlab.sandbox.objects import artist_object
from flowlab.sandbox.objects import paging
from flowlab.sandbox.objects import playlist_object
from flowlab.sandbox.objects import user_object
from flowlab.web.sandbox import proofs
from flowlab.web.sandbox import resource
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import settings
from flowlab.web.sandbox.cors import EXPOSED

bp = Blueprint("sandbox_api", __name__, url_prefix="/sandbox/v1")
# The client a call's token was issued to, left in the request's environ for the
# exercises' recorder (flowlab.web.exercises_wire): it costs no lookup of its own.
TOKEN_CLIENT = "flowlab.token_client"
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    response = jsonify(error={"status": exc.status, "message": exc.message})
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = getattr(
            exc, "challenge", None) or resource.challenge(
            exc.message if exc.token_error else None)
    response.headers.update(getattr(exc, "headers", {}))
    return response, exc.status


@bp.after_request
def cors(response):
    """Browser apps on other origins may call the API, as Spotify's allows; where
    DPoP is offered, with a ``DPoP`` header, and the page may read the nonce and
    challenge of a 401 (RFC 9449 §7.1, §9)."""
    dpop = settings().dpop != "off"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":  # the preflight of a call with a Bearer header
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, DPoP" if dpop else "Authorization")
    elif dpop:
        response.headers.update(EXPOSED)
    return response


def bearer_token() -> grants.TokenRecord:
    """The live access token of this request's Bearer header (RFC 6750 §2.1)."""
    record = proofs.api_token()  # Bearer, or DPoP with a proof (RFC 9449 §7)
    resource.check()  # its own audience, where the API is a protected resource
    request.environ[TOKEN_CLIENT] = record.client_id
    return record


def user_token() -> tuple[grants.TokenRecord, dict]:
    """A token issued for a user; a client-credentials token is refused."""
    record = bearer_token()
    user = catalogue().users.get(record.user_id or "")
    if user is None:
        raise ApiError(401, "Unauthorized.")
    return record, user


@bp.get("/me")
def me():
    """The current user's profile, fields gated by scope (wire spec §8)."""
    record, user = user_token()
    return jsonify(user_object(user, record.scopes, request.host_url))


@bp.get("/me/playlists")
def my_playlists():
    """The user's playlists; needs playlist-read-private (wire spec §8)."""
    record, user = user_token()
    if "playlist-read-private" not in record.scopes:
        raise ApiError(403, "Insufficient client scope")
    collaborative = "playlist-read-collaborative" in record.scopes
    items = [
        playlist_object(p, user, request.host_url)
        for p in catalogue().playlists
        if p["owner"] == user["id"] and (collaborative or not p["collaborative"])
    ]
    return jsonify(paging(items, request.base_url, 20))


@bp.get("/artists/<artist_id>")
def artist(artist_id: str):
    """One artist from the catalogue; any valid token (wire spec §8)."""
    bearer_token()
    if len(artist_id) != 22 or not artist_id.isalnum():
        raise ApiError(400, "invalid id")
    found = catalogue().artists.get(artist_id)
    if found is None:
        raise ApiError(404, "Resource not found")
    return jsonify(artist_object(found, request.host_url))


@bp.get("/search")
def search():
    """Search artists by name or genre; any valid token (Dev-mode limit 10)."""
    bearer_token()
    query = request.args.get("q", "").strip().lower()
    kinds = request.args.get("type", "")
    if not query:
        raise ApiError(400, "No search query")
    if not kinds:
        raise ApiError(400, "Missing parameter type")
    if any(kind not in SEARCH_TYPES for kind in kinds.split(",")):
        raise ApiError(400, "Bad search type field")
    limit = request.args.get("limit", "5")
    if not limit.isdigit() or not 1 <= int(limit) <= 10:
        raise ApiError(400, "Invalid limit")
    found = [
        artist_object(a, request.host_url)
        for a in catalogue().artists.values()
        if query in a["name"].lower() or any(query in g for g in a["genres"])
    ]
    result = {
        f"{kind}s": paging(found if kind == "artist" else [], request.url, int(limit))
        for kind in kinds.split(",")
    }
    return jsonify(result)
