"""What the sandbox's pages take from the request and the app: the one module of
``flowlab.web.sandbox`` that reads ``current_app``. The rest get it from here."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask import has_request_context
from flask import request
from flask import session

from flowlab.core.backchannel import KEY as BACKCHANNEL_KEY
from flowlab.sandbox.catalogue import Catalogue
from flowlab.sandbox.clientauth import BACKCHANNEL
from flowlab.sandbox.device import DeviceEndpoint
from flowlab.sandbox.issuers import IssuerProfile
from flowlab.sandbox.public import Sandbox
from flowlab.sandbox.server import SandboxServer
from flowlab.sandbox.server import Settings

USER_KEY = "sandbox_user"
PROFILE_KEY = "flowlab.sandbox_profile"  # this request's, in its environ


def sandbox() -> Sandbox:
    """The app's sandbox (``app.extensions["sandbox"]``)."""
    return current_app.extensions["sandbox"]


def config() -> Mapping:
    return current_app.config


def catalogue() -> Catalogue:
    return sandbox().catalogue


def profile() -> IssuerProfile:
    """The profile of the issuer this request came to (``profiles.toml``)."""
    if not has_request_context():
        return sandbox().profiles.default
    environ = request.environ  # asked several times a request: worked out once
    found = environ.get(PROFILE_KEY)
    if found is None:
        found = environ[PROFILE_KEY] = sandbox().profiles.of(request.blueprint,
                                                             request.endpoint)
    return found


def settings() -> Settings:
    """The current issuer's settings: its profile's, else the app's config."""
    return sandbox().settings(profile())


def oauth_server() -> SandboxServer:
    """The current issuer's oauthlib endpoints."""
    return sandbox().server(profile())


def device_endpoint() -> DeviceEndpoint:
    """The current issuer's device authorization endpoint (RFC 8628 §3.1)."""
    return sandbox().device_endpoint(profile(), lambda: issuer() + "/device")


def caller() -> str:
    """Who failed client authentications are counted against (RFC 6749 §10.10).

    Every local process calls from 127.0.0.1, the runner included. The runner's
    back-channel calls come in on the private listener (``flowlab.serving``), so they
    get a count of their own that calls to the public port cannot use up.
    """
    if request.environ.get(BACKCHANNEL_KEY):
        return BACKCHANNEL
    return request.remote_addr or ""


def issuer() -> str:
    """The issuer follows the host the client used (RFC 8414 §2, RFC 9207 §2),
    and its path the profile's."""
    return request.host_url + profile().path.lstrip("/")


def current_user() -> dict | None:
    """The demo user signed in to the sandbox in this browser, if any."""
    return catalogue().users.get(session.get(USER_KEY, ""))

