"""Per-request helpers shared by the sandbox's views: server, issuer, user, data."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from flask import has_request_context
from flask import request
from flask import session

from flowlab.core.backchannel import KEY as BACKCHANNEL_KEY
from flowlab.sandbox.catalogue import Catalogue
from flowlab.sandbox.issuers import Profile
from flowlab.sandbox.issuers import Profiles
from flowlab.sandbox.server import SandboxServer
from flowlab.sandbox.server import Settings
from flowlab.sandbox.store import DB
from flowlab.sandbox.validator import RequestValidator

USER_KEY = "sandbox_user"


def catalogue() -> Catalogue:
    return current_app.extensions["sandbox"]


def profile() -> Profile:
    """The profile of the issuer this request came to (``profiles.toml``)."""
    found: Profiles = current_app.extensions["sandbox_profiles"]
    if not has_request_context():
        return found.default
    return found.of(request.blueprint, request.endpoint)


def settings() -> Settings:
    """The current issuer's settings: its profile's, else the app's config."""
    config, own = current_app.config, profile()
    rotate = own.rotate_refresh_tokens
    if rotate is None:  # Not a Spotify behaviour: off unless configured.
        rotate = bool(config.get("SANDBOX_ROTATE_REFRESH_TOKENS"))
    others = current_app.extensions["sandbox_profiles"].all
    return Settings(
        code_ttl=int(own.code_ttl or config["SANDBOX_CODE_TTL"]),
        token_ttl=int(config["SANDBOX_TOKEN_TTL"]),
        failure_limit=int(config["SANDBOX_AUTH_FAILURES_PER_MINUTE"]),
        scopes=frozenset(catalogue().scopes),
        rotate_refresh_tokens=rotate,
        pkce_for_all=own.pkce_for == "all",
        invalid_client_status=own.invalid_client_status,
        loopback_any_port=own.loopback_any_port,
        token_prefix=own.token_prefix,
        foreign_prefixes=tuple(p.token_prefix for p in others if p is not own),
    )


def oauth_server() -> SandboxServer:
    """oauthlib's endpoints, built once per app and issuer; their validator reads
    the current request's connection and caller each time it needs them."""
    servers = current_app.extensions.setdefault("sandbox_servers", {})
    key = profile().id
    if key not in servers:
        config = settings()
        validator = RequestValidator(config, DB.get, caller)
        servers[key] = SandboxServer(validator, config.token_ttl)
    return servers[key]


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
    """The issuer follows the host the client used (RFC 8414 §2, RFC 9207 §2),
    and its path the profile's."""
    return request.host_url + profile().path.lstrip("/")


def current_user() -> dict | None:
    """The demo user signed in to the sandbox in this browser, if any."""
    return catalogue().users.get(session.get(USER_KEY, ""))


def authorize_uri() -> str:
    """This authorization request's URL, its query re-encoded, duplicates kept."""
    query = urlencode(list(request.args.items(multi=True)))
    return request.base_url + ("?" + query if query else "")
