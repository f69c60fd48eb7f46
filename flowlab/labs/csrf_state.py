"""Lab "csrf-state": the attacker's code pushed into the victim's session
(RFC 6749 §10.12, RFC 9700 §4.7)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flowlab.labs import client
from flowlab.labs import scripted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run

ATTACKER_USER = "bob"


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """The attacker starts the client's own linking flow as Bob and keeps the
    redirect back, code and state included, without following it."""
    params = client.authorize_params(run, config, secrets.token_urlsafe(24))
    run.attacker["link"] = scripted.code_for(run, config, params, ATTACKER_USER)


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait: one link to the client's callback, carrying Bob's code."""
    return {"link": run.attacker.get("link"),
            "link_text": "Claim your free month of Premium"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did a callback bring Bob's code, and did the client redeem it
    and read Bob's account? False when the client let it in no token request;
    None until Bob's code arrives (a sign-in of the learner's own decides nothing)."""
    code = parse_qs(urlsplit(run.attacker.get("link", "")).query).get("code")
    forged = code and [e for e in run.entries("callback")
                       if wire.query(e).get("code") == code[0]]
    if not forged:
        return None
    redeemed = [e for e in run.entries("token") if wire.form(e).get("code") == code[0]]
    if any(wire.account(run, token) == ATTACKER_USER for token in redeemed):
        return True
    return False if not redeemed else None
