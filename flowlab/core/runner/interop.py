"""The ID token of a token response, verified against the provider's published keys
(OpenID Connect Core §3.1.3.7); the key set is fetched on the captured back channel,
so the page shows that request too."""

from __future__ import annotations

import jwt
import requests

from flowlab.core.runner import oidc
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of


def id_token_record(run, ctx, notes: oidc.Notes, record: dict,
                    body: dict) -> dict:
    """``record`` with the decoded, checked ID token added, if the answer has one."""
    token = body.get("id_token")
    if not isinstance(token, str):
        return record
    found = run.secrets.get("discovered", {})  # a discovery step's, if any
    jwks, exchanges = _key_set(ctx, found.get("jwks_uri") or ctx.provider.jwks_uri)
    said = list(record.get("notes", []))
    try:
        checked = oidc.verify_id_token(
            token, jwks, found.get("issuer") or ctx.provider.issuer, ctx.client_id,
            run.secrets.get("nonce"), access_token=body.get("access_token"))
    except jwt.PyJWTError as exc:
        return record | {"error": f"The id_token is not a readable JWT ({exc}).",
                         "exchanges": record.get("exchanges", []) + exchanges}
    said.append(oidc.note(notes, "id-token" if jwks is not None
                          else "id-token-no-jwks"))
    data = {**record.get("data", {}), "id_token": checked}
    failed = [c["name"] for c in checked["checks"] if not c["ok"]]
    error = (f"The ID token failed its checks ({', '.join(failed)}): the app must "
             "not trust it (OpenID Connect Core §3.1.3.7).") if failed else None
    return record | {"data": data, "notes": said, "error": error,
                     "exchanges": record.get("exchanges", []) + exchanges}


def _key_set(ctx, uri: str | None) -> tuple[dict | None, list[dict]]:
    """The provider's JWK set from its ``jwks_uri`` and the captured exchange."""
    if not uri:
        return None, []
    session = capture_session(requests.Session())
    try:
        response = session.get(uri, timeout=ctx.timeout,
                               headers={"Accept": "application/json"})
    except requests.RequestException:
        return None, []
    exchange = [exchange_of(session, response).to_dict()]
    keys = as_json(response)
    return (keys if response.ok and keys else None), exchange
