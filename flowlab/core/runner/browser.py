"""Step: the page's own token request, as the sandbox received it (RFC 7636 §4.5).

In a run "as a single-page app", the step page's script (``static/spa.js``) sends
the PKCE token request with ``fetch``, as a browser app does, and then clicks Next.
This server sent nothing, so it has nothing of its own to show. It asks the sandbox
for what its token endpoint received from the page (``sandbox/received.py``),
proving it holds the verifier, and shows those bytes. The tokens the run continues
with are read from the answer the sandbox recorded sending, not from anything the
page says: the run stays true to the wire.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2 import WebApplicationClient

from flowlab.core import outbound
from flowlab.core.http import parse_start_line
from flowlab.core.provider import Provider
from flowlab.core.runner import oidc

NOT_SENT = ("The sandbox received no token request from this page: the page's "
            "script did not run (is JavaScript off?), or the request never left "
            "the browser. Start the run again.")


def public_token_url(provider: Provider) -> str:
    """The token endpoint the browser reaches (the runner's own may be private)."""
    return provider.issuer + "/api/token"


def received_url(provider: Provider) -> str | None:
    """The sandbox's record of what a page sent it; other providers keep none."""
    if not provider.is_sandbox:
        return None
    return provider.token_url.removesuffix("/api/token") + "/demo/received"


def browser_token(run, flow, step, ctx) -> dict:
    """Step: the code and verifier redeemed by the page, as the sandbox got them."""
    where, verifier = received_url(ctx.provider), run.secrets.get("verifier")
    if not where or not verifier:
        return {"error": "Only the sandbox records what a page sends it."}
    try:
        answer = outbound.session().post(where, data={"code_verifier": verifier},
                                         timeout=ctx.timeout)
    except requests.RequestException as exc:
        return {"error": f"The sandbox's record could not be read: {exc}"}
    if answer.status_code != 200:
        return {"error": NOT_SENT}
    url = public_token_url(ctx.provider)
    exchanges = [{**exchange, "url": url, "error": None, "note": None}
                 for exchange in answer.json()["exchanges"]]
    sent, got = exchanges[-1]["request"], exchanges[-1]["response"]
    record = {"exchanges": exchanges, "outcome": "browser",
              "status_code": parse_start_line(got["start_line"]).status,
              "data": {"browser": _how_sent(sent, got, url)}}
    return record | _tokens(run, ctx, flow.notes, got["body"])


def _how_sent(sent: dict, got: dict, url: str) -> dict:
    """What decides CORS here: the page's origin, the target's, the CORS answer."""
    origin = next((v for k, v in sent["headers"] if k.lower() == "origin"), "")
    target = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    cors = [[k, v] for k, v in got["headers"]
            if k.lower().startswith("access-control-")]
    return {"origin": origin, "target": target, "cross_origin": origin != target,
            "cors": cors}


def _tokens(run, ctx, notes: oidc.Notes, body: str) -> dict:
    """Keep the tokens the recorded answer carried, as a client would (§5.1)."""
    client = WebApplicationClient(ctx.client_id)
    try:
        token = client.parse_request_body_response(body, scope=ctx.scope)
    except Warning as exc:  # "Scope has changed", allowed by RFC 6749 §3.3
        token = getattr(exc, "token", None)
        if token is None:
            return {"error": str(exc)}
    except OAuth2Error as exc:
        error = f"{exc.error}: {exc.description}" if exc.description else exc.error
        return {"error": error, "notes": oidc.error_notes(notes, exc.error)}
    except (ValueError, TypeError, AttributeError) as exc:
        return {"error": f"The answer could not be read as a token response ({exc})."}
    run.secrets["token"] = dict(token)
    run.secrets.pop("code", None)
    issued = token.get("refresh_token")
    if issued:
        run.secrets.setdefault("refresh_tokens", []).append(issued)
    return {"error": None, "notes": oidc.scope_notes(
        notes, ctx.scope, oidc.scope_text(token.get("scope")))}
