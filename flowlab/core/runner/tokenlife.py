"""Introspect and revoke: the access token a run holds, described by the server
(RFC 7662 §2) and then revoked (RFC 7009 §2), each a captured step. Offered at the
end of a run (``offered``); the steps are ``Flow.wrap_up_steps``.
"""

from __future__ import annotations

import requests
from requests.auth import HTTPBasicAuth

from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import cut_off
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import register


def client_authentication(ctx, form: dict) -> HTTPBasicAuth | None:
    """The client's authentication at an endpoint beside the token endpoint, as
    there: its secret in Basic (RFC 6749 §2.3.1), or, for a public client, its
    ``client_id`` added to ``form``."""
    if ctx.client_secret:
        return HTTPBasicAuth(ctx.client_id, ctx.client_secret)
    form["client_id"] = ctx.client_id
    return None


def offered(run, flow) -> bool:
    """Whether the end of ``run`` offers to introspect and revoke its token: it
    finished holding an access token, has not done so yet, its provider's metadata
    names both endpoints, and the flow has an API call to show the refusal with."""
    token = run.secrets.get("token") or {}
    provider = run.provider
    return (run.status == "finished" and not run.options.get("wrap_up")
            and bool(token.get("access_token")) and bool(flow.wrap_up_steps())
            and provider.has("introspection_url") and provider.has("revocation_url"))


def token_call(run, flow, step, ctx) -> dict:
    """Step: POST the run's access token, with ``token_type_hint``, to the endpoint
    the step names (``url``: ``introspection_url``, RFC 7662 §2.1, or
    ``revocation_url``, RFC 7009 §2.1); the client authenticates as at the token
    endpoint: its secret in Basic, or a public client's ``client_id`` alone."""
    form = {"token": run.secrets.get("token", {}).get("access_token", ""),
            "token_type_hint": "access_token"}
    auth = client_authentication(ctx, form)
    session = capture_session(requests.Session())
    try:
        response = session.post(getattr(ctx.provider, step["url"]), data=form,
                                auth=auth, timeout=ctx.timeout,
                                allow_redirects=False)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)} | (
            {"cut_off": True} if cut_off(exc) else {})
    answer = as_json(response)
    record = {"exchanges": [exchange_of(session, response).to_dict()],
              "status_code": response.status_code, "error": None}
    if step["url"] == "introspection_url" and response.ok:
        record["outcome"] = "active" if answer.get("active") is True else "inactive"
    return record


register(Action("token_call", "back", token_call, reads=("token",)))
