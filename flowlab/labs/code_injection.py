"""Lab "code-injection": a stolen code redeemed by the real confidential client in
the attacker's session; PKCE binds the code to its own sign-in (RFC 9700 §4.5)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Config

from . import client
from . import scripted
from .catalogue import Lab
from .store import Run

VICTIM = "alice"


def prepare(run: Run, lab: Lab, config: Config) -> None:
    """Alice signs in on her own computer; the attacker captures her code before
    the redirect reaches the client (RFC 9700 §4.5.1)."""
    params = client.authorize_params(run, config, secrets.token_urlsafe(24))
    if lab.variants[run.variant].pkce:  # Alice's verifier stays in her session
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        params.update(code_challenge=challenge, code_challenge_method="S256")
    location = scripted.code_for(run, config, params, VICTIM)
    run.attacker["stolen"] = parse_qs(urlsplit(location).query)["code"][0]


def attacker_view(run: Run, lab: Lab) -> dict:
    """Alice's code, put into the client's callback with the attacker's own state
    (read from the attacker's own authorization request)."""
    state = run.client.get("state")
    if not state or not run.attacker.get("stolen"):
        return {}
    query = urlencode({"code": run.attacker["stolen"], "state": state})
    link = run.origin + client.callback_path(run.lab, run.variant) + "?" + query
    return {"heading": "Alice's code, ready to inject",
            "text": "Your own sign-in's state, with the code captured from Alice:",
            "link": link, "link_text": "Finish my sign-in with Alice's code"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the client's token request get Alice's account?
    None until the injected callback has arrived."""
    if not run.entries("token"):
        return None
    me = run.entries("me")
    if not me or me[-1].exchange.response is None:
        return False
    try:
        return json.loads(me[-1].exchange.response.body).get("id") == VICTIM
    except ValueError:
        return False
