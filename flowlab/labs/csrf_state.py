"""Lab "csrf-state": the attacker's code pushed into the victim's session
(RFC 6749 §10.12, RFC 9700 §4.7)."""

from __future__ import annotations

import json
import secrets

from flask import Config

from . import client
from . import scripted
from .catalogue import Lab
from .store import Run

ATTACKER_USER = "bob"


def prepare(run: Run, lab: Lab, config: Config) -> None:
    """The attacker starts the client's own linking flow as Bob and keeps the
    redirect back, code and state included, without following it."""
    params = client.authorize_params(run, config, secrets.token_urlsafe(24))
    run.attacker["link"] = scripted.code_for(run, config, params, ATTACKER_USER)


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait: one link to the client's callback, carrying Bob's code."""
    return {"link": run.attacker.get("link"),
            "link_text": "Claim your free month of Premium"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the client redeem the code and get Bob's account?
    None until the forged callback has arrived."""
    if not run.entries("callback"):
        return None
    me = run.entries("me")
    if not me or me[-1].exchange.response is None:
        return False
    try:
        who = json.loads(me[-1].exchange.response.body).get("id")
    except ValueError:
        return False
    return who == ATTACKER_USER
