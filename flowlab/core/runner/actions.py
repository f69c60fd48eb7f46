"""Step actions: each makes real HTTP calls with requests-oauthlib and captures them.

Every action takes ``(run, flow, step, ctx)`` and returns a step record: the captured
exchanges, anything the page should show, and an error when it went wrong.
"""

from __future__ import annotations

import hashlib
import secrets

import requests
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2 import MobileApplicationClient
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2 import TokenExpiredError
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from flowlab.core.http import s256
from flowlab.core.outbound import segment
from flowlab.core.runner import oidc
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import cut_off
from flowlab.core.runner.answers import describe
from flowlab.core.runner.answers import json_path
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.browser import browser_token
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.interop import id_token_record
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import register


def _session(ctx, flow, run, *, scope=True, client=None) -> OAuth2Session:
    """An OAuth2Session for this run's client, with wire capture mounted."""
    backend = isinstance(client, BackendApplicationClient)  # no redirect, no user
    oauth = OAuth2Session(
        ctx.client_id, client=client,
        redirect_uri=None if backend else ctx.redirect_uri,
        scope=ctx.scope if scope else None, token=run.secrets.get("token"),
        pkce="S256" if flow.pkce else None,
    )
    oauth.last_response = None

    def keep(response):
        oauth.last_response = response
        return response

    for hook in ("access_token_response", "refresh_token_response"):
        oauth.register_compliance_hook(hook, keep)
    return capture_session(oauth)


def authorize(run, flow, step, ctx) -> dict:
    """Step: build the authorization URL with a fresh state (and PKCE pair)."""
    # response_type=token asks for the token itself in the redirect (RFC 6749 §4.2.1)
    client = (MobileApplicationClient(ctx.client_id)
              if flow.response_type == "token" else None)
    oauth = _session(ctx, flow, run, client=client)
    params = dict(step.get("params", {}))
    scopes = (ctx.scope or "").split()
    if "openid" in scopes:  # ties the ID token to this run (OIDC Core §3.1.2.1)
        run.secrets["nonce"] = params["nonce"] = secrets.token_urlsafe(16)
    if "offline_access" in scopes:  # OIDC Core §11: needed for a refresh token
        params.setdefault("prompt", "consent")
    url, state = oauth.authorization_url(ctx.provider.authorize_url, **params)
    run.secrets.update(state=state, authorize_url=url, redirect_uri=ctx.redirect_uri)
    data = {"url": url}
    # Another provider may answer a bad client id or redirect URI with its own page.
    notes = ([] if ctx.provider.is_sandbox
             else oidc.error_notes(flow.notes, "error-page"))
    if not flow.pkce:
        return {"data": data, "outcome": "no-pkce", "notes": notes}
    verifier = oauth._code_verifier  # made by requests-oauthlib; kept server-side
    run.secrets["verifier"] = verifier
    data["pkce"] = {
        "verifier": verifier,
        "sha256": hashlib.sha256(verifier.encode("ascii")).hexdigest(),
        "challenge": s256(verifier),
    }
    return {"data": data, "outcome": "pkce", "notes": notes}


def exchange_code(run, flow, step, ctx) -> dict:
    """Step: redeem the authorization code at the token endpoint (RFC 6749 §4.1.3);
    a confidential client sends its secret in Basic, and the verifier if it used
    PKCE (RFC 7636 §4.5, RFC 9700 §2.1.1)."""
    oauth = _session(ctx, flow, run)
    if flow.pkce:
        oauth._code_verifier = run.secrets.get("verifier")
    kwargs = ({"client_secret": ctx.client_secret} if ctx.client_secret
              else {"include_client_id": True})
    record = _token_call(run, ctx, flow, oauth, lambda: oauth.fetch_token(
        ctx.provider.token_url, code=run.secrets.get("code"), timeout=ctx.timeout,
        **kwargs))
    if not record["error"] and oauth.last_response.ok:
        record = id_token_record(run, ctx, flow.notes, record,
                                 as_json(oauth.last_response))
    return record | {"outcome": "pkce" if flow.pkce else "no-pkce"}


def client_token(run, flow, step, ctx) -> dict:
    """Step: ask for an app-only token with client credentials (RFC 6749 §4.4.2)."""
    oauth = _session(ctx, flow, run, client=BackendApplicationClient(ctx.client_id))
    return _token_call(run, ctx, flow, oauth, lambda: oauth.fetch_token(
        ctx.provider.token_url, client_secret=ctx.client_secret,
        timeout=ctx.timeout))


def refresh(run, flow, step, ctx) -> dict:
    """Step: use the newest refresh token (RFC 6749 §6); ``use = "previous"`` replays
    the one before, for providers that rotate (RFC 9700 §4.14.2)."""
    history = run.secrets.get("refresh_tokens") or [None]
    previous = step.get("use") == "previous" and len(history) > 1
    token = history[-2] if previous else history[-1]
    if token is None:  # none was issued: say why instead of failing (RFC 6749 §5.1)
        granted = oidc.scope_text(run.secrets.get("token", {}).get("scope"))
        return {"skipped": True, "outcome": "none",
                "notes": [oidc.refresh_absent(flow.notes, ctx.scope, granted)]}
    oauth = _session(ctx, flow, run, scope=False)
    if ctx.client_secret:
        kwargs = {"auth": HTTPBasicAuth(ctx.client_id, ctx.client_secret)}
    else:
        kwargs = {"client_id": ctx.client_id}
    record = _token_call(run, ctx, flow, oauth, lambda: oauth.refresh_token(
        ctx.provider.token_url, refresh_token=token, timeout=ctx.timeout, **kwargs))
    issued = as_json(oauth.last_response).get("refresh_token")
    return record | {"outcome": "rotated" if issued and issued != token else "kept"}


def _token_call(run, ctx, flow, oauth, call) -> dict:
    """Make a token request; on success keep the token and any new refresh token."""
    try:
        token = call()
    except Warning as exc:  # oauthlib: "Scope has changed", allowed by RFC 6749 §3.3
        token = getattr(exc, "token", None)
        if token is None:
            return _record(oauth, error=describe(exc, oauth.last_response))
    except OAuth2Error as exc:
        record = _record(oauth, error=describe(exc, oauth.last_response))
        return record | {"notes": oidc.error_notes(flow.notes, exc.error)}
    except (ValueError, TypeError, AttributeError) as exc:
        # oauthlib trips over malformed JSON (a list, a number for scope): say so.
        return _record(oauth, error=describe(exc, oauth.last_response))
    except requests.RequestException as exc:
        return _failed(oauth, exc, ctx.timeout)
    run.secrets["token"] = dict(token)
    issued = as_json(oauth.last_response).get("refresh_token")
    kept = run.secrets.setdefault("refresh_tokens", [])
    if issued and issued not in kept[-1:]:  # none back: the client keeps its own
        kept.append(issued)
    notes = oidc.scope_notes(flow.notes, oidc.scope_text(oauth.scope),
                             oidc.scope_text(token.get("scope")))
    return _record(oauth) | {"notes": notes}


def api(run, flow, step, ctx) -> dict:
    """Step: call the Web API with the access token in the header (RFC 6750 §2.1)."""
    remembered = run.secrets.get("remember", {})  # an API's answer: one segment each
    path = step.get("path", "").format(**{k: segment(v)
                                          for k, v in remembered.items()})
    oauth = _session(ctx, flow, run)
    # The note says why userinfo stands in for an API; a step naming it needs none.
    userinfo = (oidc.userinfo_serves(ctx.provider, step, flow.notes)
                and not step.get("endpoint"))
    url = oidc.api_url(ctx.provider, step, flow.notes,
                       run.secrets.get("discovered", {}), path)
    try:
        response = oauth.get(url, timeout=ctx.timeout)
    except TokenExpiredError:
        return {"error": "The client's own clock says the token has expired, so it "
                         "did not send it. Refresh the token or start again."}
    except requests.RequestException as exc:
        return _failed(oauth, exc, ctx.timeout)
    oauth.last_response = response
    record = _record(oauth)
    if response.ok:
        run.secrets.setdefault("remember", {}).update(
            {name: json_path(as_json(response), where)
             for name, where in step.get("remember", {}).items()})
    return record | {"notes": [oidc.note(flow.notes, "userinfo")] if userinfo else []}


def expire(run, flow, step, ctx) -> dict:
    """Step: the sandbox's own control that ends the access token's life now."""
    oauth = _session(ctx, flow, run)
    try:
        oauth.last_response = oauth.post(ctx.provider.expire_url,
                                         timeout=ctx.timeout)
    except requests.RequestException as exc:
        return _failed(oauth, exc, ctx.timeout)
    return _record(oauth)


def _record(oauth, error: str | None = None) -> dict:
    response = oauth.last_response
    record = {"error": error}
    if response is not None:
        record["exchanges"] = [exchange_of(oauth, response).to_dict()]
        record["status_code"] = response.status_code
    return record


def _failed(oauth, exc: requests.RequestException, timeout: float) -> dict:
    """A request that got no usable answer; a refused redirect keeps its response."""
    redirected = isinstance(exc, requests.TooManyRedirects)
    oauth.last_response = exc.response if redirected else None
    return _record(oauth, error=transport_error(exc, timeout)) | (
        {"cut_off": True} if cut_off(exc) else {})


def _response_type(flow) -> tuple[Requirement, ...]:
    """A response type other than ``code`` must be listed (RFC 8414 §2); ``code``
    comes with the authorization_code grant that the token step requires."""
    if flow.response_type == "code":
        pkce = not flow.pkce or flow.pkce_optional  # offered without it too
        return () if pkce else (Requirement("pkce_methods", "S256", "no_s256"),)
    reason = "no_implicit" if flow.response_type == "token" else "no_response_type"
    return (Requirement("response_types", flow.response_type, reason),)


def _grant(name: str, reason: str):
    return lambda flow: (Requirement("grant_types", name, reason),)


for _action in (
    Action("authorize", "back", authorize, requires=_response_type),
    Action("consent", "front"),
    Action("callback", "front", receives="query"),
    Action("fragment", "front", receives="fragment"),
    Action("exchange_code", "back", exchange_code, reads=("code", "verifier"),
           issues_token=True, spends=("code",),
           requires=_grant("authorization_code", "no_code_grant")),
    Action("client_token", "back", client_token, issues_token=True,
           requires=_grant("client_credentials", "no_client_credentials")),
    Action("refresh", "back", refresh, reads=("refresh_tokens",), issues_token=True,
           spends=("refresh_tokens",)),
    Action("api", "back", api, reads=("token",), profile=("api_base",)),
    Action("expire", "back", expire, reads=("token",), profile=("expire_url",)),
    # The page sent it (a single-page-app run); the sandbox recorded it.
    Action("browser_token", "back", browser_token, reads=("code", "verifier")),
):
    register(_action)
