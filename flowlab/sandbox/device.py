"""The device authorization grant (RFC 8628; not in Spotify): codes and polling.

oauthlib's ``DeviceAuthorizationEndpoint`` checks the device's request and writes the
answer but stores nothing, so :func:`save` keeps both codes as digests. Its
``DeviceCodeGrant`` asks the validator at each poll where the code stands
(:func:`poll`); a poll sooner than the interval after the last one is answered
``slow_down`` and raises the interval by 5 seconds, in one UPDATE (RFC 8628 §3.5).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628.endpoints import DeviceAuthorizationEndpoint
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant
from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from flowlab.core.demo import DEVICE_GRANT
from flowlab.core.storage.db import transaction
from flowlab.core.storage.sandbox_tables import device_codes as table
from flowlab.sandbox.clientauth import basic_credentials
from flowlab.sandbox.store import digest

# RFC 8628 §6.1: consonants only (no words), no look-alike pairs; 20^8 is ~34 bits.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
SLOW_DOWN_STEP = 5  # seconds added to the interval by each slow_down (§3.5)
KEPT_AFTER_EXPIRY = 3600  # a late poll still hears expired_token, not invalid_grant


def new_user_code() -> str:
    """Eight letters of :data:`ALPHABET` with a dash in the middle (RFC 8628 §6.1)."""
    letters = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def normalize(typed: str) -> str:
    """A typed user code as stored: any case, dashes and spaces ignored (§6.1)."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    """oauthlib's endpoint, its verification URI following the host the device used,
    refusing clients not registered for the grant (RFC 8628 §3.1, §3.2)."""

    def __init__(self, validator, page: Callable[[], str], ttl: int,
                 interval: int) -> None:
        super().__init__(
            validator, verification_uri="", expires_in=ttl, interval=interval,
            verification_uri_complete=lambda code: f"{page()}?user_code={code}",
            user_code_generator=new_user_code,
        )
        self._page = page

    @property
    def verification_uri(self) -> str:
        return self._page()

    def validate_device_authorization_request(self, request) -> None:
        """oauthlib's checks, then: may this client use the grant (RFC 6749 §5.2)."""
        basic = basic_credentials(request)
        if basic and not request.client_id:  # §3.1: not needed with Basic
            request.client_id = basic[0]
        try:
            super().validate_device_authorization_request(request)
        except errors.InvalidClientIdError:  # an unknown id: §3.2 answers as §5.2
            raise errors.InvalidClientError(
                description="Invalid client", request=request) from None
        if DEVICE_GRANT not in request.client.grant_types:
            raise errors.UnauthorizedClientError(
                description="This app may not use the device grant", request=request
            )


def grant(validator) -> DeviceCodeGrant:
    """oauthlib's device code grant, each of its parameters sent once (§3.4)."""
    return DeviceCodeGrant(validator, pre_token=[_single_parameters])


def _single_parameters(request) -> None:
    for name in ("device_code", "client_id", "client_secret"):
        if name in request.duplicate_params:
            raise errors.InvalidRequestError(
                description=f"Duplicate {name} parameter.", request=request
            )


def save(conn: Connection, answer: dict, client_id: str, mark: str,
         started_from: str | None = None) -> dict:
    """Keep the digests of a new pair of codes (§3.2); returns the answer to send.

    ``mark`` is the issuer's token prefix: only that issuer's page and token
    endpoint know the codes. oauthlib echoes the granted ``scope``, which §3.2 does
    not define: it is kept here with the codes and left out of the answer.
    ``started_from`` is the address the request came from, kept with the time for
    the approval page to show (RFC 8628 §5.4).
    """
    now = time.time()
    answer = dict(answer)
    scope = answer.pop("scope", "")
    with transaction(conn):
        conn.execute(delete(table).where(
            table.c.expires_at < now - KEPT_AFTER_EXPIRY))
        conn.execute(insert(table).values(
            device_hash=digest(answer["device_code"]),
            user_hash=digest(normalize(answer["user_code"])), client_id=client_id,
            issuer_mark=mark, scopes=scope, status="pending",
            poll_interval=answer["interval"], expires_at=now + answer["expires_in"],
            started_from=started_from, started_at=now,
        ))
    return answer


def find_pending(conn: Connection, typed: str, mark: str):
    """The live, unanswered authorization a typed user code names, or None."""
    return conn.execute(select(table).where(
        table.c.user_hash == digest(normalize(typed)), table.c.status == "pending",
        table.c.issuer_mark == mark, table.c.expires_at > time.time(),
    )).mappings().first()


def decide(conn: Connection, device_hash: str, user_id: str, agree: bool) -> bool:
    """Record the user's answer once, while the codes live (RFC 8628 §3.3)."""
    return conn.execute(update(table).where(
        table.c.device_hash == device_hash, table.c.status == "pending",
        table.c.expires_at > time.time(),
    ).values(status="approved" if agree else "denied", user_id=user_id)).rowcount == 1


def poll(conn: Connection, settings, code: str, request):
    """Where this client's code stands; tokens only once (RFC 8628 §3.5).

    A code already exchanged is unknown from then on (``invalid_grant``); its
    tokens stay valid, as a device may simply have missed the answer.
    """
    key = table.c.device_hash == digest(code)
    row = conn.execute(select(table).where(key)).mappings().first()
    if row is None or row["client_id"] != request.client.client_id or (
            row["issuer_mark"] != settings.token_prefix):
        return None
    now = time.time()
    if row["status"] == "used":
        return None
    if row["status"] == "denied":
        return DeviceCodeGrant.DEVICE_CODE_DENIED
    if row["expires_at"] <= now:
        return DeviceCodeGrant.DEVICE_CODE_EXPIRED
    if row["status"] == "approved":
        return _claim(conn, key, row, request)
    too_soon = conn.execute(update(table).where(
        key, table.c.status == "pending",
        table.c.last_poll > now - table.c.poll_interval,
    ).values(poll_interval=table.c.poll_interval + SLOW_DOWN_STEP,
             last_poll=now)).rowcount == 1
    if too_soon:
        return DeviceCodeGrant.DEVICE_CODE_SLOW_DOWN
    conn.execute(update(table).where(key).values(last_poll=now))
    return DeviceCodeGrant.DEVICE_CODE_PENDING


def _claim(conn: Connection, key, row, request):
    """Mark an approved code used; a second request racing for it gets None."""
    claimed = conn.execute(update(table).where(
        key, table.c.status == "approved").values(status="used")).rowcount == 1
    if not claimed:
        return None
    request.user = row["user_id"]
    request.scopes = row["scopes"].split()
    request.grant_id = None  # save_bearer_token starts the grant
    return DeviceCodeGrant.DEVICE_CODE_AUTHORIZED


def started(row, now: float) -> dict:
    """Where and when a device authorization started, as the approval page says
    it (RFC 8628 §5.4): the address the issuer saw, the UTC time, how long ago."""
    at = row["started_at"]
    if at is None:  # a code from before the time was kept
        return {"address": row["started_from"] or "unknown", "time": "", "ago": ""}
    minutes = max(0, int((now - at) // 60))
    ago = "just now" if minutes < 1 else (
        "1 minute ago" if minutes == 1 else f"{minutes} minutes ago")
    return {"address": row["started_from"] or "unknown",
            "time": time.strftime("%H:%M:%S UTC", time.gmtime(at)), "ago": ago}
