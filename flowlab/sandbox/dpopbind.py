"""DPoP bindings (RFC 9449 §5, §6, §7, §10): which key a code or token is bound to.

The token endpoint checks the proof before oauthlib runs the grant
(:func:`token_gate`) and hands the key's thumbprint on as the request's
``extra_credentials["dpop_jkt"]``. The grant then checks it against the code's
``dpop_jkt`` (§10) and a public client's refresh token (§5), both before the code
is claimed or the refresh token rotated, and binds the tokens it issues. A
confidential client's refresh token is bound by its authentication, not the key.

The seam for JWT access tokens (RFC 9068): :func:`confirmation` gives a token's
``cnf`` claim (``{"jkt": …}``, §6.1), and :func:`jkt_of` the thumbprint of the
request issuing it, for a claims hook to put in the token.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from oauthlib.oauth2.rfc6749 import errors
from sqlalchemy import Connection
from sqlalchemy import select

from flowlab.core.storage.db import insert_new
from flowlab.core.storage.sandbox_tables import dpop_bindings
from flowlab.sandbox import dpop
from flowlab.sandbox.bearer import ApiError
from flowlab.sandbox.bearer import bearer_token
from flowlab.sandbox.store import digest

REFRESH_KEPT = 180 * 86400  # as long as a grant lives (grants.REFRESH_LIFETIME)
AFTER = 3600  # bindings outlive their value by the hour housekeeping keeps it


class InvalidDpopProof(errors.OAuth2Error):
    """A proof missing or by the wrong key for what it redeems (RFC 9449 §5, §10)."""

    error = dpop.INVALID
    status_code = 400


def _bind(conn: Connection, value: str, jkt: str, expires_at: float) -> None:
    insert_new(conn, dpop_bindings,
               dict(value_hash=digest(value), jkt=jkt, expires_at=expires_at))


def bound_key(conn: Connection, value: str) -> str | None:
    """The thumbprint ``value`` (a code or token) is bound to, if any."""
    return conn.execute(select(dpop_bindings.c.jkt).where(
        dpop_bindings.c.value_hash == digest(value))).scalar()


def confirmation(conn: Connection, token: str) -> dict | None:
    """The ``cnf`` claim of a DPoP-bound access token (RFC 9449 §6.1), else None:
    for a JWT access token's claims and for introspection (§6.2)."""
    jkt = bound_key(conn, token)
    return {"jkt": jkt} if jkt else None


def jkt_of(request) -> str | None:
    """The thumbprint of the proof that came with this token request, if any."""
    return (getattr(request, "extra_credentials", None) or {}).get("dpop_jkt")


def token_gate(conn: Connection, settings, secret: str, proofs: list[str],
               url: str) -> str | None:
    """The proof of a token request, checked before any grant runs (§4.3, §5);
    its ``jkt``, or None without one where DPoP is not required. Raises
    :class:`dpop.ProofError`; where DPoP is off a proof is ignored."""
    if settings.dpop == "off" or (not proofs and settings.dpop != "required"):
        return None
    if not proofs:
        raise dpop.ProofError(dpop.INVALID, "This issuer issues DPoP-bound tokens"
                              " only: send a DPoP proof (FAPI 2.0 SP §5.3.2.1)")
    return dpop.check(conn, proofs, "POST", url, secret=secret,
                      mark=settings.token_prefix)


def bind_code(grant: dict, token_handler, request) -> dict:
    """oauthlib code modifier: a ``dpop_jkt`` sent at authorize (or pushed)
    binds the code to that key (§10)."""
    validator = token_handler.request_validator
    asked = dict(parse_qsl(urlsplit(request.uri).query)).get("dpop_jkt")
    if asked and validator.settings.dpop != "off":
        _bind(validator.conn, grant["code"], asked,
              time.time() + validator.settings.code_ttl + AFTER)
    return grant


def check_code(bound: str | None, request) -> None:
    """A code bound by ``dpop_jkt`` to the key ``bound`` (read with the code,
    ``grants.find_code``) is redeemed only with a proof by that key."""
    if bound and bound != jkt_of(request):
        raise InvalidDpopProof(description="The code is bound to another DPoP key"
                               " (dpop_jkt)", request=request)


def check_refresh(conn: Connection, refresh_token: str, request) -> None:
    """A public client's bound refresh token needs a proof by the same key (§5)."""
    bound = bound_key(conn, refresh_token)
    if bound and bound != jkt_of(request):
        raise InvalidDpopProof(description="The refresh token is bound to another"
                               " DPoP key", request=request)


def bind_tokens(conn: Connection, settings, token: dict, request) -> None:
    """Bind the tokens just saved to the proof's key and say so (§5, §6)."""
    jkt = jkt_of(request)
    if not jkt:
        return
    now = time.time()
    _bind(conn, token["access_token"], jkt, now + settings.token_ttl + AFTER)
    if token.get("refresh_token") and not request.client.confidential:
        _bind(conn, token["refresh_token"], jkt, now + REFRESH_KEPT)
    token["token_type"] = "DPoP"


class DpopApiError(ApiError):
    """A 401 at the API with a DPoP challenge (§7.1), maybe with a nonce (§9)."""

    def __init__(self, error: str, message: str, nonce: str | None = None) -> None:
        super().__init__(401, message)
        self.challenge = (f'DPoP error="{error}", error_description="{message}", '
                          f'algs="{" ".join(dpop.ALGS)}"')
        self.headers = {"DPoP-Nonce": nonce} if nonce else {}


def api_token(conn: Connection, settings, secret: str, header: str | None,
              proofs: list[str], method: str, url: str):
    """The live access token of an API request: ``Authorization: DPoP`` with a
    proof carrying ``ath`` where DPoP is offered (§7.1), else Bearer; a
    DPoP-bound token sent as Bearer is refused (§7.2)."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    if settings.dpop == "off" or scheme.lower() != "dpop":
        record = bearer_token(conn, header)
        if bound_key(conn, value):
            raise DpopApiError("invalid_token", "This token is DPoP-bound: send it"
                               " with the DPoP scheme and a proof")
        return record
    record = bearer_token(conn, "Bearer " + value)
    try:
        jkt = dpop.check(conn, proofs, method, url, secret=secret,
                         mark=settings.token_prefix, access_token=value)
    except dpop.ProofError as exc:
        fresh = dpop.nonce(secret, settings.token_prefix)
        raise DpopApiError(exc.error, exc.description,
                           fresh if exc.error == dpop.USE_NONCE else None) from None
    if bound_key(conn, value) != jkt:
        raise DpopApiError(dpop.INVALID, "The access token is not bound to the"
                           " proof's key")
    return record
