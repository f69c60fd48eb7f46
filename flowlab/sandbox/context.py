"""Per-request helpers shared by the sandbox's views: server, issuer, user, data."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from flask import request
from flask import session

from ..serving import BACKCHANNEL_KEY
from .catalogue import Catalogue
from .server import RequestBoundValidator
from .server import SandboxServer
from .server import Settings
from .store import DB

USER_KEY = "sandbox_user"


def catalogue() -> Catalogue:
    return current_app.extensions["sandbox"]


def settings() -> Settings:
    config = current_app.config
    return Settings(
        code_ttl=int(config["SANDBOX_CODE_TTL"]),
        token_ttl=int(config["SANDBOX_TOKEN_TTL"]),
        failure_limit=int(config["SANDBOX_AUTH_FAILURES_PER_MINUTE"]),
        scopes=frozenset(catalogue().scopes),
        # Not a Spotify behaviour: kept for the best-practice profile, off by default.
        rotate_refresh_tokens=bool(config.get("SANDBOX_ROTATE_REFRESH_TOKENS")),
    )


def oauth_server() -> SandboxServer:
    """oauthlib's endpoints, built once per app; their validator reads the current
    request's connection and caller each time it needs them."""
    server = current_app.extensions.get("sandbox_server")
    if server is None:
        config = settings()
        validator = RequestBoundValidator(config, DB.get, caller)
        server = SandboxServer(validator, config.token_ttl)
        current_app.extensions["sandbox_server"] = server
    return server


def caller() -> str:
    """Who failed client authentications are counted against (RFC 6749 §10.10).

    Every local process calls from 127.0.0.1, the runner included. The runner's
    back-channel calls come in on the private listener (``flowlab.serving``), so they
    get a count of their own that calls to the public port cannot use up.
    """
    if request.environ.get(BACKCHANNEL_KEY):
        return "back-channel"
    return request.remote_addr or ""


def issuer() -> str:
    """The issuer follows the host the client used (RFC 8414 §2, RFC 9207 §2)."""
    return request.host_url + "sandbox"


def current_user() -> dict | None:
    """The demo user signed in to the sandbox in this browser, if any."""
    return catalogue().users.get(session.get(USER_KEY, ""))


def authorize_uri() -> str:
    """This authorization request's URL, its query re-encoded, duplicates kept."""
    query = urlencode(list(request.args.items(multi=True)))
    return request.base_url + ("?" + query if query else "")
