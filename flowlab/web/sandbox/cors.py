"""CORS at the token endpoint, answered as Spotify's accounts service answers it.

A browser app's PKCE token request is a simple request (a form-encoded POST, no
custom header), so the browser sends it without asking and lets the page read the
answer when it carries ``Access-Control-Allow-Origin``. A preflight is refused:
Spotify answers one that asks for ``Authorization`` with 204 and no CORS headers
(spotify/web-api#586), so a page cannot send a Basic header. The sandbox refuses
every preflight there alike; for other requested headers that is our assumption.
"""

from __future__ import annotations

from functools import partial

from flask import Flask
from flask import Response
from flask import request

TOKEN_PATH = "/sandbox/api/token"


def init_app(app: Flask, token_paths: tuple[str, ...]) -> None:
    """``token_paths``: the token endpoint of every sandbox issuer
    (``profiles.toml``)."""
    app.before_request(partial(_refuse_preflight, token_paths))
    app.after_request(partial(_allow_simple, token_paths))


def _refuse_preflight(token_paths: tuple[str, ...]) -> Response | None:
    """A preflight gets 204 with no CORS headers: the browser sends nothing more."""
    if request.method == "OPTIONS" and request.path in token_paths:
        return Response(status=204)
    return None


def _allow_simple(token_paths: tuple[str, ...], response: Response) -> Response:
    """Every other answer of the token endpoint may be read by any origin's page."""
    if request.path in token_paths and request.method != "OPTIONS":
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response
