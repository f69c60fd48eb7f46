"""The token exchange flow's actions (RFC 8693). ``resource_authorize`` is the
``authorize`` action with ``resource`` named for each API the app will use
(RFC 8707 §2.1), so that the token it gets is good at several; ``token_exchange``
trades that access token at the token endpoint for a narrower one (RFC 8693 §2.1):
one audience, fewer scopes, the same user, and an ``act`` claim naming the client
that exchanged it (§4.1). The calls made with it are the ``api`` action's.

Both tokens are decoded on the page; the step's TOML holds each note's title and
text (``[step.notes]``) and what to say when the server refuses (``[step.errors]``,
keyed by the RFC 6749 §5.2 / RFC 8693 §2.2.2 error code).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import requests

from flowlab.core.runner import actions
from flowlab.core.runner import fapiwire as wire
from flowlab.core.runner import jose
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import action
from flowlab.core.runner.registry import register
from flowlab.core.runner.tokenlife import client_authentication

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693 §2.1
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"  # RFC 8693 §3


def _note(step: dict, key: str, facts: list) -> dict:
    text = step.get("notes", {}).get(key, {})
    return {"key": key, "title": text.get("title", key), "text": text.get("text", ""),
            "facts": facts}


def authorize(run, flow, step, ctx) -> dict:
    """Step: the authorization URL (``actions.authorize``) with one ``resource``
    for this provider's API (``api``: its path under the API base URL) and one
    for each of ``also`` (RFC 8707 §2.1)."""
    record = actions.authorize(run, flow, step, ctx)
    api = (ctx.provider.api_base or ctx.provider.issuer or "") + step.get("api", "")
    resources = [api, *step.get("also", [])]
    run.secrets["resources"] = resources
    url = record["data"]["url"] + "&" + urlencode([("resource", r)
                                                  for r in resources])
    record["data"]["url"] = run.secrets["authorize_url"] = url
    return record


def exchange(run, flow, step, ctx) -> dict:
    """Step: the token exchange request (RFC 8693 §2.1): the run's access token as
    ``subject_token``, the first resource it was granted as the one ``resource``,
    and the step's narrower ``scope``; the client authenticates as at any token
    request (its secret in Basic, RFC 6749 §2.3.1)."""
    held = run.secrets.get("token") or {}
    resource = (run.secrets.get("resources") or [""])[0]
    form = {"grant_type": GRANT, "subject_token": held.get("access_token", ""),
            "subject_token_type": ACCESS_TOKEN, "resource": resource,
            "scope": step["scope"]}
    auth = client_authentication(ctx, form)
    session = capture_session(requests.Session())
    try:
        answer, sent = wire.send(session, "POST", ctx.provider.token_url, ctx,
                                 data=form, auth=auth)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)}
    body = as_json(answer)
    told = step.get("errors", {})
    if not answer.ok or "access_token" not in body:
        return wire.record([sent], answer, error=told.get(body.get("error")))
    run.secrets.update(subject=held, token=body)
    claims = jose.decoded(body["access_token"])[1]
    notes = [_note(step, "subject", _facts(held.get("access_token", ""))),
             _note(step, "issued", _facts(body["access_token"], header=True))]
    return wire.record([sent], answer, error=_wrong(told, body, claims, resource,
                                                    ctx.client_id), notes=notes)


def _facts(token: str, header: bool = False) -> list:
    """A JWT's claims (and header), decoded unverified to show them (RFC 9068 §2);
    an opaque token has nothing to show (RFC 6749 §1.4)."""
    head, claims = jose.decoded(token)
    if not claims:
        return [["Token", "opaque: not a JWT, nothing to decode"]]
    shown = [["Header", head]] if header else []
    return [[name, json.dumps(value, indent=2)]
            for name, value in [*shown, ["Claims", claims]]]


def _wrong(told: dict, body: dict, claims: dict, resource: str,
           client_id: str) -> str | None:
    """What is not as RFC 8693 says in a 200 answer: ``issued_token_type``
    (§2.2.1); in a JWT, ``aud`` only the resource asked for, ``act`` the client."""
    if body.get("issued_token_type") != ACCESS_TOKEN:
        return told["issued-token-type"]
    if not claims:
        return None
    aud = claims.get("aud")
    if (aud if isinstance(aud, list) else [aud]) != [resource]:
        return told["wrong-audience"].format(resource=resource)
    if (claims.get("act") or {}).get("sub") != client_id:
        return told["no-act"]
    return None


for _action in (
    Action("resource_authorize", "back", authorize,
           requires=action("authorize").requires),
    Action("token_exchange", "back", exchange, reads=("token", "resources"),
           issues_token=True, requires=lambda flow: (
               Requirement("grant_types", GRANT, "no_token_exchange"),)),
):
    register(_action)
