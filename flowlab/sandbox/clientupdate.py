"""Updating a registration (RFC 7592 §2.2): a PUT of the client's whole metadata
to its registration client URI, with the registration access token.

The body replaces what was registered: each field is checked exactly as at
registration (``clientreg.check``, the same RFC 7591 §3.2.2 errors), and a field
left out is gone (§2.2: the server treats an omitted field as deleted). The
body must carry the client's own ``client_id``, and a ``client_secret`` in it
must be the current one (§2.2). The sandbox keeps the ``client_id``, its secret,
when it was issued and the registration access token; it does not let an update
change ``token_endpoint_auth_method`` (whether the client has a secret): such a
client registers anew. The answer is the full client information (§3, 200).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flowlab.core.hosts import constant_time_equal
from flowlab.sandbox import store
from flowlab.sandbox.clientreg import RegistrationError
from flowlab.sandbox.clientreg import check
from flowlab.sandbox.registrations import answer
from flowlab.sandbox.registrations import fetch_jwks
from flowlab.sandbox.store import Client


def _bad(description: str) -> RegistrationError:
    return RegistrationError("invalid_client_metadata", description)


def _same_client(config: Mapping, client: Client, body) -> None:
    """The body names this client, and its secret if it sends one (§2.2)."""
    if not isinstance(body, dict):
        raise _bad("Send the client metadata as a JSON object (RFC 7592 §2.2).")
    if body.get("client_id") != client.client_id:
        raise _bad("The body must carry this registration's client_id "
                   "(RFC 7592 §2.2).")
    sent = body.get("client_secret")
    if sent is not None:
        secret = store.shown_secret(config, client)
        if not (isinstance(sent, str) and secret
                and constant_time_equal(sent, secret)):
            raise _bad("client_secret is not this client's secret "
                       "(RFC 7592 §2.2).")


def update(conn, config: Mapping, settings, client: Client, body, local: bool,
           issuer: str) -> dict:
    """Replace ``client``'s metadata with ``body``; its client information
    (without the registration access token, which the caller adds)."""
    _same_client(config, client, body)
    found = check(body, settings, local, fetch_jwks)
    if found["token_endpoint_auth_method"] != client.auth_method:
        raise _bad("token_endpoint_auth_method cannot change: register a new "
                   "client for another way of authenticating.")
    keys = found.pop("fetched_jwks", None) or found.get("jwks")
    kept = json.loads(client.registered or "{}")
    found["client_id_issued_at"] = kept.get("client_id_issued_at")
    store.update_client(
        conn, client.client_id, name=found["client_name"],
        redirect_uris="\n".join(found["redirect_uris"]),
        grant_types=" ".join(found["grant_types"]),
        response_types=" ".join(found["response_types"]),
        jwks=json.dumps(keys) if keys else None, jwks_uri=found.get("jwks_uri"),
        id_token_signed_response_alg=found.get("id_token_signed_response_alg"),
        scope=found.get("scope"), registered=json.dumps(found))
    return answer(config, store.get_client(conn, client.client_id), issuer)
