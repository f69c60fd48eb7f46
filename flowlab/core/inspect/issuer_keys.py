"""An issuer's published keys for the JWT workbench: its metadata found by
discovery from the token's ``iss`` (OpenID Connect Discovery §4, RFC 8414 §3.1),
then its ``jwks_uri`` (RFC 7517 §5), fetched only when the user asks, and only
through ``flowlab.core.outbound`` (deadline, size cap, public addresses for a
remote requester: the caller sets the limits)."""

from __future__ import annotations

import requests

from flowlab.core import outbound
from flowlab.core.inspect.jwks import TEXTS
from flowlab.core.inspect.jwks import keys_from_text

MAX_BYTES = 256 * 1024  # a discovery document or a JWK Set; far more than either


def issuer_keys(issuer, timeout: float) -> tuple[list[dict], str]:
    """The keys at the ``jwks_uri`` of ``issuer``'s metadata (OpenID Discovery
    §4, then RFC 8414 §3.1), fetched through ``outbound`` (the caller sets its
    limits: deadline, public addresses for remote requesters); no redirect
    followed. ValueError says what failed."""
    if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
        raise ValueError(TEXTS["no_iss"])
    scheme, _, rest = issuer.partition("://")
    host, _, path = rest.partition("/")
    tried = [issuer.rstrip("/") + "/.well-known/openid-configuration",
             f"{scheme}://{host}/.well-known/oauth-authorization-server/{path}"
             .rstrip("/")]
    try:
        with outbound.session(MAX_BYTES) as http:
            metadata, where = _metadata(http, tried, issuer, timeout)
            uri = metadata.get("jwks_uri")
            if not isinstance(uri, str) or not uri.startswith(("https://",
                                                               "http://")):
                raise ValueError(TEXTS["no_jwks_uri"].format(where=where))
            answer = http.get(uri, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise ValueError(TEXTS["not_fetched"].format(detail=exc)) from None
    if answer.status_code != 200:
        raise ValueError(TEXTS["jwks_status"].format(uri=uri,
                                                     status=answer.status_code))
    return keys_from_text(answer.text), TEXTS["source"].format(uri=uri, where=where)


def _metadata(http, urls: list[str], issuer: str, timeout: float) -> tuple:
    for url in urls:
        answer = http.get(url, timeout=timeout, allow_redirects=False,
                          headers={"Accept": "application/json"})
        try:
            metadata = answer.json() if answer.status_code == 200 else None
        except ValueError:
            metadata = None
        if isinstance(metadata, dict) and metadata.get("issuer") == issuer:
            return metadata, url
    raise ValueError(TEXTS["no_metadata"].format(urls=" or ".join(urls)))
