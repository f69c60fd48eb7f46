"""CORS at the token and PAR endpoints: Spotify's answers, and DPoP's where offered.

A browser app's PKCE token request is a simple request (a form-encoded POST, no
custom header), so the browser sends it without asking and lets the page read the
answer when it carries ``Access-Control-Allow-Origin``. A preflight is refused:
Spotify answers one that asks for ``Authorization`` with 204 and no CORS headers
(spotify/web-api#586), so a page cannot send a Basic header. The sandbox refuses
every preflight there alike; for other requested headers that is our assumption.

Where the issuer offers DPoP (RFC 9449), a page's token or pushed request carries a
``DPoP`` header, which is not a simple request: the preflight is granted for that
header (and POST) only, never for ``Authorization`` (a secret has no place in a
page), and every answer exposes ``DPoP-Nonce`` and ``WWW-Authenticate`` so that the
page can read a nonce challenge (§8) and answer it.
"""

from __future__ import annotations

from functools import partial

from flask import Flask
from flask import Response
from flask import request

from flowlab.web.sandbox.context import settings

TOKEN_PATH = "/sandbox/api/token"
DPOP_PREFLIGHT = {"Access-Control-Allow-Origin": "*",
                  "Access-Control-Allow-Methods": "POST",
                  "Access-Control-Allow-Headers": "DPoP",
                  "Access-Control-Max-Age": "600"}
EXPOSED = {"Access-Control-Expose-Headers": "DPoP-Nonce, WWW-Authenticate"}


def init_app(app: Flask, paths: tuple[str, ...]) -> None:
    """``paths``: the token endpoint of every sandbox issuer, and the PAR
    endpoint of those that offer it (``profiles.toml``)."""
    app.before_request(partial(_preflight, paths))
    app.after_request(partial(_allow_simple, paths))


def _offers_dpop() -> bool:
    return settings().dpop != "off"


def _preflight(paths: tuple[str, ...]) -> Response | None:
    """A preflight gets 204 with no CORS headers (the browser sends nothing
    more), unless the issuer offers DPoP: then the ``DPoP`` header is granted."""
    if request.method == "OPTIONS" and request.path in paths:
        return Response(status=204, headers=DPOP_PREFLIGHT if _offers_dpop() else {})
    return None


def _allow_simple(paths: tuple[str, ...], response: Response) -> Response:
    """Every other answer may be read by any origin's page; where DPoP is offered,
    with its nonce and challenge."""
    if request.path in paths and request.method != "OPTIONS":
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        if _offers_dpop():
            response.headers.update(EXPOSED)
    return response
