"""Lab "code-injection": a stolen code redeemed by the real confidential client in
the attacker's session; PKCE binds the code to its own sign-in (RFC 9700 §4.5)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flowlab.core.http import s256
from flowlab.labs import client
from flowlab.labs import scripted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run

VICTIM = "alice"


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """Alice signs in on her own computer; the attacker captures her code before
    the redirect reaches the client (RFC 9700 §4.5.1)."""
    params = client.authorize_params(run, config, secrets.token_urlsafe(24))
    if lab.variants[run.variant].pkce:  # Alice's verifier stays in her session
        verifier = secrets.token_urlsafe(48)
        params.update(code_challenge=s256(verifier), code_challenge_method="S256")
    location = scripted.code_for(run, config, params, VICTIM)
    run.attacker["stolen"] = parse_qs(urlsplit(location).query)["code"][0]


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The attacker's own sign-in, with ``show_dialog=true`` (a Spotify parameter):
    the sandbox asks again even after a sign-in, so there is a page to stop on."""
    return client.start_login(run, lab, config) + "&show_dialog=true"


def attacker_view(run: Run, lab: Lab) -> dict:
    """Alice's code, put into the client's callback with the attacker's own state
    (read from the attacker's own authorization request)."""
    state = run.client.get("state")
    if not run.attacker.get("stolen"):
        return {}
    if not state:
        return {"text": f"{lab.client_name} has no sign-in of yours waiting for its "
                "callback: none started yet, or one you finished. Go back, start "
                "your own sign-in and stop on the sandbox's page."}
    query = urlencode({"code": run.attacker["stolen"], "state": state})
    link = run.origin + client.callback_path(run.lab, run.variant) + "?" + query
    return {"heading": "Alice's code, ready to inject",
            "text": "Your own sign-in's state, with the code captured from Alice:",
            "link": link, "link_text": "Finish my sign-in with Alice's code"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did a token request carrying Alice's stolen code get tokens
    that read Alice's account? False when the token endpoint refused it for the
    verifier; None until the stolen code reaches the token endpoint (a sign-in the
    learner finished as Alice decides nothing: that code was never stolen)."""
    stolen = run.attacker.get("stolen")
    redeemed = [e for e in run.entries("token")
                if stolen and wire.form(e).get("code") == stolen]
    if any(wire.account(run, token) == VICTIM for token in redeemed):
        return True
    if any(wire.refused(e) and "code_verifier" in wire.form(e) for e in redeemed):
        return False
    return None
