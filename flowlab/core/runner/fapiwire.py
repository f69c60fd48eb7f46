"""The FAPI 2.0 flow's wire: where the sandbox's metadata URLs are reached from
this process (RFC 8414 §3), sending and recording one exchange, and a request sent
again with the server's ``DPoP-Nonce`` after a ``use_dpop_nonce`` challenge
(RFC 9449 §8 at the token endpoint, §9 at a resource).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of

WELL_KNOWN = "/.well-known/oauth-authorization-server"  # RFC 8414 §3


def reach(ctx, url: str) -> str:
    """An endpoint of the sandbox's metadata as this process reaches it: over the
    back channel, as every other step's calls (``providers.here``)."""
    issuer = ctx.provider.issuer or ""
    if ctx.provider.is_sandbox and url.startswith(issuer + "/"):
        return ctx.provider.api_base + url[len(issuer):]
    return url


def public(ctx, url):
    """The other way: the sandbox's metadata, read over the back channel, names
    that origin; the browser and the ``iss`` check need the issuer's own."""
    if ctx.provider.is_sandbox and url and url.startswith(ctx.provider.api_base):
        return ctx.provider.issuer + url[len(ctx.provider.api_base):]
    return url


def metadata_url(ctx) -> str:
    """RFC 8414 §3: the well-known path inserted before the issuer's path."""
    if ctx.provider.is_sandbox:
        base = ctx.provider.api_base
        path = ctx.provider.sandbox_path or ""
        return base.removesuffix(path) + WELL_KNOWN + path
    parts = urlsplit(ctx.provider.issuer or "")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


def send(session, method: str, url: str, ctx, **kwargs):
    response = session.request(method, url, timeout=ctx.timeout,
                               allow_redirects=False, **kwargs)
    return response, exchange_of(session, response).to_dict()


def record(exchanges: list, response, error: str | None = None, **more) -> dict:
    return {"exchanges": exchanges, "status_code": response.status_code,
            "error": error or (None if response.ok else said(response)), **more}


def said(response) -> str:
    body = as_json(response)
    return (f"The server answered {response.status_code}: "
            f"{body.get('error') or 'no error code'}"
            + (f" ({body['error_description']})" if body.get("error_description")
               else ""))


def with_nonce(run, ctx, method: str, url: str, headers, **kwargs):
    """Send, and once more with the server's ``DPoP-Nonce`` when the answer is a
    ``use_dpop_nonce`` challenge (RFC 9449 §8, §9): both exchanges recorded."""
    nonces = run.secrets.setdefault("dpop_nonces", {})
    origin = urlsplit(url).netloc
    session = capture_session(requests.Session())
    exchanges, proofs = [], []
    try:
        for _ in range(2):
            sent = headers(nonces.get(origin))
            proofs.append(sent["DPoP"])
            answer, exchange = send(session, method, url, ctx, headers=sent,
                                     **kwargs)
            exchanges.append(exchange)
            if answer.headers.get("DPoP-Nonce"):
                nonces[origin] = answer.headers["DPoP-Nonce"]
            if not challenged(answer):
                break
    except requests.RequestException as exc:
        error = transport_error(exc, ctx.timeout)
        return {"exchanges": exchanges, "error": error}, proofs, None
    outcome = "nonce-retried" if len(exchanges) > 1 else "no-challenge"
    return record(exchanges, answer) | {"outcome": outcome}, proofs, answer


def challenged(answer) -> bool:
    return (as_json(answer).get("error") == "use_dpop_nonce"
            or 'error="use_dpop_nonce"' in answer.headers.get("WWW-Authenticate", ""))
