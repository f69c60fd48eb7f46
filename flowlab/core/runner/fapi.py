"""The FAPI 2.0 flow's actions: the run's client registers itself with a key of its
own (RFC 7591 §3.1), pushes its request with a client assertion (RFC 9126 §2.1,
RFC 7523 §2.2), redeems the code and refreshes with private_key_jwt and a DPoP
proof, answering the server's nonce challenge (RFC 9449 §8), and calls the API with
a proof carrying ``ath`` (RFC 9449 §7). Every JWT it sends or gets is decoded on
the page; the step's TOML holds each note's title and text (``[step.notes]``).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

import requests

from flowlab.core.http import s256
from flowlab.core.runner import fapiwire as wire
from flowlab.core.runner import jose
from flowlab.core.runner import oidc
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import register


def _note(step: dict, key: str, facts: list) -> dict:
    text = step.get("notes", {}).get(key, {})
    return {"key": key, "title": text.get("title", key), "text": text.get("text", ""),
            "facts": facts}


def _jwt_facts(token: str) -> list:
    header, claims = jose.decoded(token)
    return [["Header", json.dumps(header)], ["Claims", json.dumps(claims)]]


def register_client(run, flow, step, ctx) -> dict:
    """Step: read the metadata (RFC 8414), then register a client whose key is
    made here, for private_key_jwt (RFC 7591 §2, ``jwks`` inline)."""
    session = capture_session(requests.Session())
    try:
        answer, first = wire.send(session, "GET", wire.metadata_url(ctx), ctx)
        meta = as_json(answer)
        if "registration_endpoint" not in meta:
            return wire.record([first], answer, "The issuer's metadata names no "
                           "registration_endpoint (RFC 7591 §3): it does not "
                           "offer dynamic registration.")
        key, dpop_key = jose.new_key(), jose.new_key()
        body = {"client_name": "OAuth Flow Lab (FAPI 2.0 run)",
                "redirect_uris": [ctx.redirect_uri],
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"], "dpop_bound_access_tokens": True,
                "jwks": {"keys": [{**jose.public(key), "kid": jose.thumbprint(key),
                                   "use": "sig", "alg": "ES256"}]}}
        answer, second = wire.send(session, "POST",
                               wire.reach(ctx, meta["registration_endpoint"]), ctx,
                               json=body)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)}
    if answer.status_code == 201:
        endpoints = {name: wire.public(ctx, meta.get(name)) for name in (
            "issuer", "pushed_authorization_request_endpoint",
            "authorization_endpoint", "token_endpoint")}
        run.secrets.update(client_id=as_json(answer).get("client_id"),
                           client_key=key, dpop_key=dpop_key, endpoints=endpoints)
    facts = [["Public key (JWK)", json.dumps(jose.public(key))],
             ["kid", jose.thumbprint(key)]]
    return wire.record([first, second], answer,
                   notes=[_note(step, "client-key", facts)])


def push_request(run, flow, step, ctx) -> dict:
    """Step: push the authorization request (RFC 9126 §2.1), authenticated with a
    client assertion, bound to the DPoP key by ``dpop_jkt`` (RFC 9449 §10); the
    authorization URL then carries only ``client_id`` and ``request_uri`` (§4)."""
    ends, client_id = run.secrets["endpoints"], run.secrets["client_id"]
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    dpop_key = run.secrets["dpop_key"]
    signed = jose.assertion(run.secrets["client_key"], client_id, ends["issuer"])
    form = {"response_type": "code", "client_id": client_id,
            "redirect_uri": ctx.redirect_uri, "scope": ctx.scope or "",
            "state": state, "code_challenge": s256(verifier),
            "code_challenge_method": "S256", "dpop_jkt": jose.thumbprint(dpop_key),
            # OIDC Core §11: offline_access needs prompt=consent for a refresh token
            **({"prompt": "consent"} if "offline_access" in (ctx.scope or "").split()
               else {}),
            "client_assertion_type": jose.ASSERTION_TYPE, "client_assertion": signed}
    session = capture_session(requests.Session())
    try:
        answer, sent = wire.send(session, "POST", wire.reach(
            ctx, ends["pushed_authorization_request_endpoint"]), ctx, data=form)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)}
    request_uri = as_json(answer).get("request_uri")
    if answer.status_code == 201 and request_uri:
        url = ends["authorization_endpoint"] + "?" + urlencode(
            {"client_id": client_id, "request_uri": request_uri})
        run.secrets.update(state=state, verifier=verifier, authorize_url=url,
                           redirect_uri=ctx.redirect_uri)
    notes = [_note(step, "assertion", _jwt_facts(signed)),
             _note(step, "thumbprint", [["DPoP public key (JWK)",
                                         json.dumps(jose.public(dpop_key))],
                                        *jose.thumbprint_steps(dpop_key)])]
    return wire.record([sent], answer, notes=notes)


def dpop_token(run, flow, step, ctx) -> dict:
    """Step: a token request with private_key_jwt and a DPoP proof (RFC 9449 §5):
    the code, or (``dpop_refresh``) the newest refresh token (RFC 6749 §6); sent
    again with the server's nonce when it answers ``use_dpop_nonce`` (§8)."""
    ends, client_id = run.secrets["endpoints"], run.secrets["client_id"]
    if step["action"] == "dpop_refresh":
        kept = run.secrets.get("refresh_tokens")
        if not kept:  # none was issued: say why instead of failing (RFC 6749 §5.1)
            granted = oidc.scope_text(run.secrets.get("token", {}).get("scope"))
            return {"skipped": True, "outcome": "none",
                    "notes": [oidc.refresh_absent(flow.notes, ctx.scope, granted)]}
        form = {"grant_type": "refresh_token", "refresh_token": kept[-1]}
    else:
        form = {"grant_type": "authorization_code", "code": run.secrets.get("code"),
                "redirect_uri": ctx.redirect_uri,
                "code_verifier": run.secrets.get("verifier")}
    url = wire.reach(ctx, ends["token_endpoint"])
    signed = []

    def headers(nonce):
        signed.append(jose.assertion(run.secrets["client_key"], client_id,
                                     ends["issuer"]))
        form.update(client_assertion_type=jose.ASSERTION_TYPE,
                    client_assertion=signed[-1])
        return {"DPoP": jose.proof(run.secrets["dpop_key"], "POST", url, nonce)}

    record, proofs, answer = wire.with_nonce(run, ctx, "POST", url, headers, data=form)
    if record.get("status_code") != 200:
        return record
    token = as_json(answer)
    run.secrets["token"] = {k: token[k] for k in (
        "access_token", "token_type", "expires_in", "scope") if k in token}
    kept = run.secrets.setdefault("refresh_tokens", [])
    if token.get("refresh_token") and token["refresh_token"] not in kept[-1:]:
        kept.append(token["refresh_token"])
    if token.get("token_type") != "DPoP":
        record["error"] = "The token came back as token_type " + repr(
            token.get("token_type")) + ", not DPoP (RFC 9449 §5)."
    return record | {"notes": [
        _note(step, "assertion", _jwt_facts(signed[-1])),
        _note(step, "proof", _jwt_facts(proofs[-1])),
        _note(step, "thumbprint", jose.thumbprint_steps(run.secrets["dpop_key"])),
        _note(step, "access-token", _bound(run, token.get("access_token", "")))]}


def _bound(run, access_token: str) -> list:
    """The access token's claims and whether its ``cnf.jkt`` (RFC 9449 §6.1) is
    this run's DPoP key's thumbprint."""
    header, claims = jose.decoded(access_token)
    jkt, ours = (claims.get("cnf") or {}).get("jkt"), jose.thumbprint(
        run.secrets["dpop_key"])
    match = "yes: the token is bound to the key" if jkt == ours else "no"
    return [["Header", json.dumps(header)], ["Claims", json.dumps(claims)],
            ["cnf.jkt", str(jkt)], ["The proof key's thumbprint", ours],
            ["Do they match?", match]]


def dpop_api(run, flow, step, ctx) -> dict:
    """Step: call the API with ``Authorization: DPoP`` and a proof carrying ``ath``
    (RFC 9449 §7.1); again with the resource's nonce if it asks (§9)."""
    access_token = run.secrets["token"]["access_token"]
    url = ctx.provider.api_base + step.get("path", "/v1/me")

    def headers(nonce):
        return {"Authorization": "DPoP " + access_token,
                "DPoP": jose.proof(run.secrets["dpop_key"], "GET", url, nonce,
                                   access_token)}

    record, proofs, answer = wire.with_nonce(run, ctx, "GET", url, headers)
    if answer is None:
        return record
    facts = [*_jwt_facts(proofs[-1]), ["SHA-256 of the access token, base64url",
                                       jose.ath(access_token)]]
    return record | {"notes": [_note(step, "ath", facts)]}


def _needs(field: str, value: str, reason: str):
    return lambda flow: (Requirement(field, value, reason),)


for _action in (
    Action("register_client", "back", register_client,
           requires=_needs("extensions", "registration", "no_registration")),
    # FAPI 2.0 SP §5.3.2.2: PKCE with S256 only
    Action("push_request", "back", push_request, reads=("client_id",),
           requires=lambda flow: (Requirement("pkce_methods", "S256", "no_s256"),
                                  Requirement("extensions", "par", "no_par"))),
    Action("dpop_token", "back", dpop_token, reads=("code", "verifier"),
           issues_token=True, spends=("code",),
           requires=lambda flow: (
               Requirement("grant_types", "authorization_code", "no_code_grant"),
               Requirement("extensions", "dpop", "no_dpop"))),
    Action("dpop_refresh", "back", dpop_token, reads=("refresh_tokens",),
           issues_token=True),
    Action("dpop_api", "back", dpop_api, reads=("token",), profile=("api_base",)),
):
    register(_action)
