"""Step: read an OpenID provider's configuration, on the wire (OpenID Connect
Discovery 1.0 §4), so the steps after it use the endpoints and keys it names.

The document is fetched from the issuer as this process reaches it; its ``issuer``
must be exactly the URL it was fetched under (§4.3), else nothing in it is used.
What it names is kept with the run under ``discovered`` (no secret: anyone may
fetch it) and read by the token step (``jwks_uri``, ``issuer``) and by an API step
with ``endpoint = "userinfo_endpoint"``.
"""

from __future__ import annotations

import requests

from flowlab.core.hosts import allows_plain_http
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import cut_off
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import register

WELL_KNOWN = "/.well-known/openid-configuration"  # Discovery §4
# The fields the runner uses (Discovery §3, RFC 7662 §4, RFC 7009 §3).
KEPT = ("issuer", "jwks_uri", "userinfo_endpoint", "introspection_endpoint",
        "revocation_endpoint")


def reached_issuer(provider) -> str:
    """The issuer as this process reaches it: a sandbox issuer on its private back
    channel (``providers.sandbox``: ``api_base`` is the issuer's path there, and the
    sandbox names itself after the host it was asked on), any other at its own
    identifier."""
    return (provider.api_base if provider.is_sandbox else provider.issuer) or ""


def discover(run, flow, step, ctx) -> dict:
    """Step: GET ``{issuer}/.well-known/openid-configuration`` (Discovery §4.1) and
    keep the endpoints it names, once its ``issuer`` is checked (§4.3)."""
    issuer = reached_issuer(ctx.provider).rstrip("/")
    session = capture_session(requests.Session())
    try:
        response = session.get(issuer + WELL_KNOWN, timeout=ctx.timeout,
                               allow_redirects=False,
                               headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)} | (
            {"cut_off": True} if cut_off(exc) else {})
    record = {"exchanges": [exchange_of(session, response).to_dict()],
              "status_code": response.status_code, "error": None}
    document = as_json(response)
    if response.status_code != 200 or not document:
        return record | {"error": "The provider has no OpenID configuration here "
                         "(OpenID Connect Discovery §4): it is no OpenID provider."}
    if document.get("issuer") != issuer:
        return record | {"error": f"The document names the issuer "
                         f"{document.get('issuer')!r}, not {issuer!r}, the URL it "
                         "came from: nothing in it can be trusted (Discovery §4.3)."}
    found = {name: document[name] for name in KEPT
             if isinstance(document.get(name), str)
             and allows_plain_http(document[name])}
    run.secrets["discovered"] = found
    return record | {"data": {"discovered": found}}


register(Action("discover", "back", discover, requires=lambda flow: (
    Requirement("profile", "openid", "no_openid"),)))
