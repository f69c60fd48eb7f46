"""Client authentication at the token, revocation and introspection endpoints.

HTTP Basic with the id and secret form-urlencoded before Base64 (RFC 6749 §2.3.1), or
``client_id``/``client_secret`` in the body; never both (RFC 6749 §2.3). Failures are
counted per client and caller and refused with 429 past the limit.

An unknown client id and a wrong secret get the same answer, ``Invalid client``, so a
probe cannot learn which ids exist (RFC 6819 §5.1.4.2.2). Spotify words the second
``Invalid client secret``: the one place the sandbox says less than Spotify.
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors

from flowlab.core import http as exchange
from flowlab.core.hosts import constant_time_equal
from flowlab.sandbox import consents
from flowlab.sandbox.store import Client
from flowlab.sandbox.store import digest
from flowlab.sandbox.store import get_client


class TooManyFailures(errors.OAuth2Error):
    """Too many failed client authentications from one address (RFC 6749 §10.10)."""

    error = "invalid_client"
    status_code = 429
    description = (
        "Too many failed client authentications from this address for this client."
        " Wait a minute, check the client secret, then try again"
    )


def basic_credentials(request) -> tuple[str, str] | None:
    """The id and secret of an ``Authorization: Basic`` header (RFC 6749 §2.3.1)."""
    value = request.headers.get("Authorization", "")
    if value.partition(" ")[0].lower() != "basic":
        return None
    pair = exchange.basic_credentials(value)
    if pair is None:  # not Base64, not UTF-8 once decoded, or no colon
        raise errors.InvalidClientError(description="Invalid client", request=request)
    return pair


def presented_credentials(request) -> tuple[str | None, str | None]:
    """The credentials sent, by exactly one method (RFC 6749 §2.3)."""
    basic = basic_credentials(request)
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


def authenticate(conn, request, remote: str, limit: int) -> Client:
    """Check a confidential client's secret, counting failures (RFC 6749 §3.2.1)."""
    client_id, secret = presented_credentials(request)
    key = f"{client_id}|{remote}"
    if consents.failures(conn, key) >= limit:
        raise TooManyFailures(request=request)
    client = get_client(conn, client_id)
    if client is not None and not client.confidential and secret is None:
        if request.grant_type == "client_credentials":
            raise errors.UnauthorizedClientError(
                description="Public clients cannot use client_credentials",
                request=request,
            )
    # One comparison whatever the id: the timing says no more than the text.
    known = client is not None and client.confidential
    expected = client.secret_hash if known else digest("")
    matches = secret is not None and constant_time_equal(digest(secret), expected)
    if not (known and matches):
        consents.record_failure(conn, key)
        raise errors.InvalidClientError(description="Invalid client", request=request)
    return client


def identify_public(conn, request, remote: str, limit: int) -> Client:
    """A public client names itself with ``client_id`` alone (RFC 6749 §3.2.1)."""
    key = f"{request.client_id}|{remote}"
    if consents.failures(conn, key) >= limit:
        raise TooManyFailures(request=request)
    client = get_client(conn, request.client_id)
    if client is None or client.confidential:
        consents.record_failure(conn, key)
        raise errors.InvalidClientError(description="Invalid client", request=request)
    return client
