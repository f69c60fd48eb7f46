"""Pushed authorization requests (RFC 9126): pushed, then used once by reference.

The client posts every authorization parameter to the pushed authorization request
endpoint, authenticated as at the token endpoint (§2.1: the validator's own client
authentication, so every method it knows works here too). The parameters are
checked as an authorization request would be (oauthlib's own validation, PKCE and
redirect URI included); errors come back as JSON, as at the token endpoint (§2.3).
The answer is a ``request_uri`` with its ``expires_in`` (§2.2), kept in the store
every process shares (``once``).

At the authorization endpoint (§4) the request names ``client_id`` and
``request_uri``; the pushed parameters are used and no others: where PAR is
offered, any other query parameter is ignored (as RFC 9101 §6.3 has it for a
request object); where it is required (§5), a request without ``request_uri`` and
one with other parameters beside it are refused. The pushed request is read at
each page of the authorization (a reload is allowed, §4) and taken, once, when the
code is issued; ``expires_in`` counts to the first authorization request, and the
user then has ten minutes to sign in and agree; a used, expired, unknown or another
client's ``request_uri`` is an error page (``invalid_request_uri``), never a redirect.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qsl
from urllib.parse import urlencode

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from flowlab.sandbox import dpoppar
from flowlab.sandbox import once

KIND = "par"
URN = "urn:ietf:params:oauth:request_uri:"
EXPIRES_IN = 60  # seconds (§2.2: short-lived; FAPI 2.0 SP §5.3.2.2 under 600)
INTERACTION = 600  # once opened in time, the user has this long to sign in and agree
AUTHENTICATION = ("client_secret", "client_assertion", "client_assertion_type")
BY_REFERENCE = {"client_id", "request_uri"}


class InvalidRequestUri(errors.FatalClientError):
    """A request_uri that cannot be used (RFC 9126 §4, RFC 9101 §6.2)."""

    error = "invalid_request_uri"
    description = ("invalid_request_uri: this request_uri is unknown, expired, used"
                   " already or another client's. Push the request again.")


def _refuse(description: str, request=None):
    return errors.InvalidRequestError(description=description, request=request)


def _authenticate(validator, request) -> None:
    """Client authentication as at the token endpoint (RFC 9126 §2.1)."""
    if validator.client_authentication_required(request):
        validator.authenticate_client(request)
    else:
        validator.authenticate_client_id(request.client_id, request)


def push(server, url: str, authorize_url: str, form: str, headers: dict,
         jkt: str | None = None) -> tuple[dict, str, int]:
    """The pushed authorization request endpoint (§2): oauthlib's triple.
    ``jkt``: the key of a DPoP proof sent with it (RFC 9449 §10.1)."""
    validator = server.request_validator
    settings = validator.settings
    request = Request(url, "POST", form, headers)
    try:
        _authenticate(validator, request)
        client_id = request.client.client_id
        params = [(name, value) for name, value in parse_qsl(form)
                  if name not in AUTHENTICATION]
        if "request_uri" in dict(params):
            raise _refuse("request_uri cannot be pushed (RFC 9126 §2.1)", request)
        if any(name == "client_id" and value != client_id for name, value in params):
            raise _refuse("client_id is not the authenticated client", request)
        if "client_id" not in dict(params):
            params.append(("client_id", client_id))
        params = dpoppar.bind(params, jkt, request)
        server.validate_authorization_request(
            authorize_url + "?" + urlencode(params), "GET")
    except errors.OAuth2Error as exc:
        status = exc.status_code
        if exc.error == "invalid_client" and status == 401:
            status = settings.invalid_client_status
        body = {"error": exc.error, "error_description": exc.description}
        return dict(exc.headers), json.dumps(body), status
    request_uri = URN + secrets.token_urlsafe(32)
    now = time.time()
    once.put(validator.conn, KIND, request_uri,
             {"client_id": client_id, "params": params, "use_by": now + EXPIRES_IN,
              "mark": settings.token_prefix}, now + EXPIRES_IN + INTERACTION)
    body = {"request_uri": request_uri, "expires_in": EXPIRES_IN}
    return {}, json.dumps(body), 201


def _pushed(conn, settings, args: list[tuple[str, str]]) -> dict:
    given = dict(args)
    found = once.peek(conn, KIND, given["request_uri"])
    if (found is None or found["mark"] != settings.token_prefix
            or found["client_id"] != given.get("client_id")):
        raise InvalidRequestUri()
    # expires_in counts to the first authorization request; the login and
    # consent pages after it may take the user longer.
    first = once.use_once(conn, KIND + "-opened", given["request_uri"],
                          found["use_by"] + INTERACTION)
    if first and time.time() > found["use_by"]:
        raise InvalidRequestUri()
    return found


def authorization_params(conn, settings,
                         args: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters an authorization request stands for (§4, §5): the pushed
    ones when it names a ``request_uri``; raises a fatal (error page) error."""
    names = {name for name, _ in args}
    if settings.par == "off":
        return args
    if "request_uri" not in names:
        if settings.par == "required":
            raise errors.InvalidRequestFatalError(description=(
                "invalid_request: this server takes only pushed authorization"
                " requests (RFC 9126 §5). Push the parameters to its"
                " pushed_authorization_request_endpoint, then send client_id and"
                " request_uri here."))
        return args
    if settings.par == "required" and names - BY_REFERENCE:
        raise errors.InvalidRequestFatalError(description=(
            "invalid_request: only client_id and request_uri may come with a"
            " pushed request here; every other parameter belongs in the pushed"
            " request (RFC 9126 §4)."))
    return [tuple(pair) for pair in _pushed(conn, settings, args)["params"]]


def spend(conn, settings, args: list[tuple[str, str]]) -> bool:
    """Take the pushed request as its code is issued (§4: one-time use); False
    if another request took it first. True when no pushed request is involved."""
    given = dict(args)
    if settings.par == "off" or "request_uri" not in given:
        return True
    return once.take(conn, KIND, given["request_uri"]) is not None


def metadata(settings, issuer: str) -> dict:
    """RFC 9126 §5's metadata fields, where PAR is offered."""
    if settings.par == "off":
        return {}
    return {"pushed_authorization_request_endpoint": issuer + "/api/par",
            "require_pushed_authorization_requests": settings.par == "required"}
