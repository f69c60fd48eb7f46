"""Client authentication at the token, revocation and introspection endpoints.

HTTP Basic with the id and secret form-urlencoded before Base64 (RFC 6749 §2.3.1), or
``client_id``/``client_secret`` in the body, or a signed assertion (private_key_jwt,
``assertion.py``); never two (RFC 6749 §2.3). Only the methods of the issuer's
profile count (``settings.auth_methods``). Failures are counted per client and
caller and refused with 429 past the limit.

An unknown client id and a wrong secret get the same answer, ``Invalid client``, so a
probe cannot learn which ids exist (RFC 6819 §5.1.4.2.2). Spotify words the second
``Invalid client secret``: the one place the sandbox says less than Spotify.
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors

from flowlab.core import http as exchange
from flowlab.core.hosts import constant_time_equal
from flowlab.core.hosts import is_loopback_host
from flowlab.core.storage.prepared import Prepared
from flowlab.sandbox import assertion
from flowlab.sandbox import consents
from flowlab.sandbox.store import CLIENT
from flowlab.sandbox.store import Client
from flowlab.sandbox.store import digest

# The caller name of the runner's calls on the private back-channel listener
# (``web/sandbox/context.caller``): this machine, at an internal origin.
BACKCHANNEL = "back-channel"
# A client and the failures counted against its caller this minute, in one
# statement: the token endpoint's every request needs both (RFC 6749 §10.10).
CLIENT_AND_FAILURES = Prepared(CLIENT.add_columns(
    consents.FAILURES.scalar_subquery().label("failures")))


_BASIC = "flowlab_basic"  # where a request keeps its decoded Basic credentials


class TooManyFailures(errors.OAuth2Error):
    """Too many failed client authentications from one address (RFC 6749 §10.10)."""

    error = "invalid_client"
    status_code = 429
    description = (
        "Too many failed client authentications from this address for this client."
        " Wait a minute, check the client secret, then try again"
    )


def basic_credentials(request) -> tuple[str, str] | None:
    """The id and secret of an ``Authorization: Basic`` header (RFC 6749 §2.3.1);
    decoded once per request (the checks ask three times)."""
    if _BASIC in vars(request):
        return vars(request)[_BASIC]
    value = request.headers.get("Authorization", "")
    pair = None
    if value.partition(" ")[0].lower() == "basic":
        pair = exchange.basic_credentials(value)
        if pair is None:  # not Base64, not UTF-8 once decoded, or no colon
            raise errors.InvalidClientError(description="Invalid client",
                                            request=request)
    vars(request)[_BASIC] = pair
    return pair


def presents_credentials(request) -> bool:
    """Whether the request authenticates its client by any method (RFC 6749 §2.3)."""
    return bool(basic_credentials(request) or request.client_secret is not None
                or assertion.presented(request))


def presented_credentials(request) -> tuple[str | None, str | None]:
    """The credentials sent, by exactly one method (RFC 6749 §2.3)."""
    basic = basic_credentials(request)
    if assertion.presented(request) and (basic or request.client_secret is not None):
        raise errors.InvalidRequestError(
            description="Use one client authentication method, not two",
            request=request)
    if basic is None:
        return request.client_id, request.client_secret
    if request.client_secret is not None or (
        request.client_id and request.client_id != basic[0]
    ):
        raise errors.InvalidRequestError(
            description="Use one client authentication method, not two",
            request=request,
        )
    return basic


def _refuse(conn, key: str, request, description: str = "Invalid client"):
    consents.record_failure(conn, key)
    return errors.InvalidClientError(description=description, request=request)


def _client_and_failures(conn, client_id: str | None,
                         key: str) -> tuple[Client | None, int]:
    """The app registered as ``client_id`` and the failures counted against ``key``
    this minute: one statement when the id is known, as on every good request."""
    if client_id:
        row = CLIENT_AND_FAILURES.first(conn, {
            "client_id": client_id, **consents.this_minute(key)})
        if row is not None:
            return Client.from_row(row), row["failures"] or 0
    return None, consents.failures(conn, key)


def authenticate(conn, request, remote: str, settings) -> Client:
    """Check a confidential client's secret or assertion, counting failures (RFC
    6749 §3.2.1, RFC 7523 §3). Also the seam for the PAR endpoint (RFC 9126 §2.1):
    any oauthlib request whose ``uri`` is at this issuer."""
    client_id, secret = presented_credentials(request)
    if assertion.presented(request):
        return _assertion(conn, request, remote, settings)
    key = f"{client_id}|{remote}"
    client, failed = _client_and_failures(conn, client_id, key)
    if failed >= settings.failure_limit:
        raise TooManyFailures(request=request)
    method = ("client_secret_basic" if basic_credentials(request)
              else "client_secret_post")
    if secret is not None and method not in settings.auth_methods:
        raise _refuse(conn, key, request, "This issuer accepts only: "
                      + ", ".join(settings.auth_methods) + " (RFC 8414 §2)")
    if client is not None and not client.confidential and secret is None:
        if request.grant_type == "client_credentials":
            raise errors.UnauthorizedClientError(
                description="Public clients cannot use client_credentials",
                request=request,
            )
    # One comparison whatever the id: the timing says no more than the text.
    known = client is not None and client.secret_hash is not None
    expected = client.secret_hash if known else digest("")
    matches = secret is not None and constant_time_equal(digest(secret), expected)
    if not (known and matches):
        raise _refuse(conn, key, request)
    return client


def _assertion(conn, request, remote: str, settings) -> Client:
    """A signed assertion instead of a secret (private_key_jwt, RFC 7523 §3)."""
    key = f"{assertion.claimed_client(request)}|{remote}"
    if consents.failures(conn, key) >= settings.failure_limit:
        raise TooManyFailures(request=request)
    if "private_key_jwt" not in settings.auth_methods:
        raise _refuse(conn, key, request)
    try:
        inside = remote == BACKCHANNEL
        return assertion.verify(conn, request, settings,
                                inside or is_loopback_host(remote), inside)
    except errors.InvalidClientError as exc:
        raise _refuse(conn, key, request, exc.description) from None


def identify_public(conn, request, remote: str, settings) -> Client:
    """A public client names itself with ``client_id`` alone (RFC 6749 §3.2.1),
    where the profile accepts ``none`` (FAPI 2.0: confidential clients only)."""
    key = f"{request.client_id}|{remote}"
    client, failed = _client_and_failures(conn, request.client_id, key)
    if failed >= settings.failure_limit:
        raise TooManyFailures(request=request)
    if client is None or client.confidential or "none" not in settings.auth_methods:
        raise _refuse(conn, key, request)
    return client
