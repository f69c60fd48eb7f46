"""What the sandbox's token, PAR and API endpoints take from a DPoP request (RFC
9449): the ``DPoP`` headers, the URL, the app's secret for nonces. The checks are in
``flowlab.sandbox.dpop``, ``dpopbind`` and ``dpoppar``."""

from __future__ import annotations

from flask import request

from flowlab.sandbox import dpop
from flowlab.sandbox import dpopbind
from flowlab.sandbox import dpoppar
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import config
from flowlab.web.sandbox.context import settings


def _secret() -> str:
    return config()["SECRET_KEY"]


def token_jkt() -> str | None:
    """The key of a token request's proof, checked before the grant runs (§4.3,
    §5); None without one. Raises :class:`dpop.ProofError`."""
    current = settings()
    if current.dpop == "off":  # a proof is ignored: nothing to read
        return None
    return dpopbind.token_gate(DB.get(), current, _secret(),
                               request.headers.getlist("DPoP"), request.base_url)


def par_jkt() -> str | None:
    """The key of a pushed request's proof, if one came (RFC 9449 §10.1).
    Raises :class:`dpop.ProofError`."""
    return dpoppar.gate(DB.get(), settings(), _secret(),
                        request.headers.getlist("DPoP"), request.base_url)


def nonce_header() -> dict:
    """A fresh ``DPoP-Nonce`` on every token answer where DPoP is offered (§8)."""
    current = settings()
    if current.dpop == "off":
        return {}
    return {"DPoP-Nonce": dpop.nonce(_secret(), current.token_prefix)}


def api_token():
    """The live access token of an API request, Bearer or DPoP (§7)."""
    return dpopbind.api_token(
        DB.get(), settings(), _secret(), request.headers.get("Authorization"),
        request.headers.getlist("DPoP"), request.method, request.base_url)
