"""The MCP flow's actions: an agent finds, joins and calls an MCP server as the MCP
authorization spec (2025-11-25) has it, a profile of RFC 9728, RFC 8414, RFC 7591
(or a client ID metadata document), RFC 7636 and RFC 8707.

``mcp_discover`` follows one link of the chain (``request``: the 401's challenge,
the resource's metadata, the authorization server's); ``mcp_client`` makes the
client known (``how``, one entry of ``HOW`` per way); ``mcp_authorize``,
``mcp_token`` and ``mcp_call`` run the code flow with ``resource`` and call the
server. A step's ``note`` (title, text) and ``errors`` come from the flow's TOML.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import urlencode

import jwt
import requests

from flowlab.core.http import s256
from flowlab.core.runner import clientdoc
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import register
from flowlab.core.runner.wellknown import PRM
from flowlab.core.runner.wellknown import challenge
from flowlab.core.runner.wellknown import first_found
from flowlab.core.runner.wellknown import identifier_of
from flowlab.core.runner.wellknown import origin
from flowlab.core.runner.wellknown import server_metadata_urls


def _note(step: dict, facts: list) -> list[dict]:
    told = step.get("note")
    return [{"key": step["id"], "title": told["title"], "text": told["text"],
             "facts": facts}] if told else []


def _send(ctx, method: str, url: str, **kwargs) -> tuple[dict, object]:
    """One captured request: the record and the response (None if it failed)."""
    session = capture_session(requests.Session())
    try:
        response = session.request(method, url, timeout=ctx.timeout, **kwargs)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)}, None
    return {"exchanges": [exchange_of(session, response).to_dict()],
            "status_code": response.status_code, "error": None}, response


def _refused(step: dict, record: dict, key: str, **values) -> dict:
    return record | {"error": step.get("errors", {}).get(key, key).format(**values)}


def discover(run, flow, step, ctx) -> dict:
    """Step: one link of the discovery chain (see the module)."""
    state = run.secrets.setdefault("mcp", {})
    how = step["request"]
    urls = ([_server(ctx, step)] if how == "probe"
            else [state["resource_metadata"]] if how == "resource"
            else server_metadata_urls(state["issuer"]))
    if None in urls:  # another provider, and no MCP server's URL given
        return _refused(step, {}, "no-server")
    record, answer, url = first_found(urls, lambda url: _send(
        ctx, "GET", url, headers={"Accept": "application/json"}))
    if answer is None or how == "probe":
        return record if answer is None else _challenged(step, state, url, record,
                                                         answer)
    if how == "server" and answer.status_code != 200:
        return _refused(step, record, "no-metadata")
    body = as_json(answer)
    if how == "resource":  # §3.3: the resource named where the metadata was asked
        expected = identifier_of(found := state["resource_metadata"], PRM)
        if body.get("resource") != expected or not body.get("authorization_servers"):
            return _refused(step, record, "resource-mismatch", expected=expected)
        state.update(resource=body["resource"],
                     issuer=body["authorization_servers"][0])
        return record | {"notes": _note(step, [["metadata URL", found]])}
    if body.get("issuer") != state["issuer"]:  # RFC 8414 §3.3
        return _refused(step, record, "issuer-mismatch", expected=state["issuer"])
    if "S256" not in body.get("code_challenge_methods_supported", []):
        return _refused(step, record, "no-s256")  # MCP: refuse to go on
    state["server_metadata"] = {k: body.get(k) for k in (
        "authorization_endpoint", "token_endpoint", "registration_endpoint",
        "client_id_metadata_document_supported")}
    return record | {"notes": _note(step, [["metadata URL", url]] + [
        [k, str(v)] for k, v in state["server_metadata"].items() if v is not None])}


def _challenged(step, state, url, record, answer) -> dict:
    """The 401's challenge read (RFC 9728 §5.1): where the metadata is."""
    pairs = challenge(answer.headers.get("WWW-Authenticate", ""))
    found = dict(pairs).get("resource_metadata")
    if answer.status_code != 401 or not found:  # not the answer taught here
        return _refused(step, record, "no-resource-metadata") | {"status_code": None}
    state.update(server=url, resource_metadata=found)
    return record | {"notes": _note(step, pairs)}


def _server(ctx, step: dict) -> str | None:
    """The MCP server the agent is given: at the sandbox, ``server`` on its origin
    (whichever issuer was chosen: the server names its own); else the API's
    (None without an API base URL)."""
    base = ctx.provider.api_base
    if ctx.provider.is_sandbox and step.get("server"):
        return origin(base or "") + step["server"]
    return base and base + step.get("path", "")


def _register(run, step, ctx) -> dict:
    """Dynamic registration (RFC 7591 §3.1) as a public client: no secret,
    ``token_endpoint_auth_method`` none, PKCE instead (RFC 7636)."""
    state = run.secrets["mcp"]
    endpoint = state["server_metadata"].get("registration_endpoint")
    if not endpoint:
        return _refused(step, {}, "no-registration")
    metadata = {"client_name": step.get("client_name", "Agent"),
                "redirect_uris": [ctx.redirect_uri],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"]}
    record, answer = _send(ctx, "POST", endpoint, json=metadata)
    if answer is None:
        return record
    body = as_json(answer)
    if answer.status_code != 201 or not body.get("client_id"):
        return record | {"error": body.get("error") or "not-registered"}
    state["client_id"] = body["client_id"]
    return record | {"notes": _note(step, [["client_id", body["client_id"]]])}


# How a client makes itself known (MCP 2025-11-25, "Client Registration"): a
# client ID metadata document (draft-ietf-oauth-client-id-metadata-document) is
# the first choice, dynamic registration the fallback. Each way is one entry.
HOW = {"registration": _register,
       "metadata-document": lambda run, step, ctx: clientdoc.make_known(
           run, step, ctx, _send, _note, _register)}


def authorize(run, flow, step, ctx) -> dict:
    """Step: the authorization URL with PKCE S256 (RFC 7636 §4.2) and ``resource``
    (RFC 8707 §2.1): this server's, and any ``also`` the agent uses."""
    state = run.secrets["mcp"]
    verifier = secrets.token_urlsafe(48)  # 64 characters (RFC 7636 §4.1)
    state["other"] = (step.get("also") or [None])[0]
    params = [("response_type", "code"), ("client_id", state["client_id"]),
              ("redirect_uri", ctx.redirect_uri), ("scope", ctx.scope or ""),
              ("state", secrets.token_urlsafe(16)),
              ("code_challenge", s256(verifier)), ("code_challenge_method", "S256"),
              *[("resource", r) for r in [state["resource"], *step.get("also", [])]]]
    endpoint = _for_browser(state["server_metadata"]["authorization_endpoint"], ctx)
    url = endpoint + "?" + urlencode(params)
    run.secrets.update(state=params[4][1], authorize_url=url, verifier=verifier,
                       redirect_uri=ctx.redirect_uri,  # iss to expect, RFC 9207
                       issuer=_for_browser(state["issuer"], ctx))
    digest = hashlib.sha256(verifier.encode("ascii")).hexdigest()
    return {"data": {"url": url, "pkce": {"verifier": verifier, "sha256": digest,
                                          "challenge": s256(verifier)}},
            "outcome": "pkce", "error": None}


def _for_browser(url: str, ctx) -> str:
    """At the address your browser reaches: the metadata the lab read on the
    sandbox's private back channel (``providers.sandbox``) names that one."""
    back, public, here = (origin(u or "") for u in (
        ctx.provider.api_base, ctx.provider.issuer, url))
    if ctx.provider.is_sandbox and back != public and here == back:
        return public + url.removeprefix(back)
    return url


def token(run, flow, step, ctx) -> dict:
    """Step: a token for one resource (RFC 8707 §2.2): the code and verifier
    (RFC 7636 §4.5), or a refresh (RFC 6749 §6) for the ``other`` audience."""
    state = run.secrets["mcp"]
    other = step.get("audience") == "other"
    resource = state["other"] if other else state["resource"]
    form = ({"grant_type": "refresh_token",
             "refresh_token": (run.secrets.get("refresh_tokens") or [""])[-1]}
            if other else
            {"grant_type": "authorization_code", "code": run.secrets.get("code"),
             "redirect_uri": run.secrets.get("redirect_uri"),
             "code_verifier": run.secrets.get("verifier")})
    form |= {"client_id": state["client_id"], "resource": resource}
    endpoint = state["server_metadata"]["token_endpoint"]
    record, answer = _send(ctx, "POST", endpoint, data=form)
    if answer is None:
        return record
    body = as_json(answer)
    if answer.status_code != 200 or "access_token" not in body:
        return record | {"error": body.get("error") or "no-token"}
    run.secrets["other_token" if other else "token"] = body
    if body.get("refresh_token"):
        run.secrets.setdefault("refresh_tokens", []).append(body["refresh_token"])
    try:
        header = jwt.get_unverified_header(body["access_token"])
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    except jwt.PyJWTError:
        return _refused(step, record, "not-a-jwt")
    aud = claims.get("aud")
    if resource not in (aud if isinstance(aud, list) else [aud]):
        return _refused(step, record, "wrong-audience", resource=resource)
    return record | {"notes": _note(step, [
        ["header", json.dumps(header, indent=2)],
        ["claims", json.dumps(claims, indent=2)],
        ["resource asked for", resource]])}


def call(run, flow, step, ctx) -> dict:
    """Step: call the MCP server with a token in the header (RFC 6750 §2.1)."""
    state = run.secrets["mcp"]
    held = run.secrets.get("other_token" if step.get("use") == "other" else "token")
    record, answer = _send(ctx, "GET", state["server"], headers={
        "Authorization": "Bearer " + (held or {}).get("access_token", "")})
    if answer is None:
        return record
    if answer.status_code == 401:
        pairs = challenge(answer.headers.get("WWW-Authenticate", ""))
        return record | {"error": dict(pairs).get("error", "refused"),
                         "notes": _note(step, pairs)}
    return record | {"notes": _note(step, [])}


NEEDS = (Requirement("grant_types", "authorization_code", "no_code_grant"),
         Requirement("pkce_methods", "S256", "no_s256"))
for _action in (
    Action("mcp_discover", "back", discover),
    # Make the client known to the authorization server, as ``how`` says.
    Action("mcp_client", "back", lambda run, flow, step, ctx: HOW[step["how"]](
        run, step, ctx), reads=("mcp",)),
    Action("mcp_authorize", "back", authorize, reads=("mcp",),
           requires=lambda flow: NEEDS),
    Action("mcp_token", "back", token, reads=("mcp", "code", "verifier"),
           issues_token=True, spends=("code",)),
    Action("mcp_call", "back", call, reads=("mcp", "token")),
):
    register(_action)
