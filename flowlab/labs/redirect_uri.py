"""Lab "redirect-uri": a pattern-matched redirect URI that the attacker's address
also matches (RFC 9700 §4.1); exact matching refuses it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from flowlab.core.http import s256
from flowlab.labs import client
from flowlab.labs import crafted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run


def _listener(run: Run, config: Mapping) -> str:
    """The attacker's redirect URI: under the pattern, on 127.0.0.2."""
    return f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as/callback"


def _crafted(run: Run, lab: Lab, config: Mapping) -> str:
    """The client's real id, the attacker's redirect URI, state and challenge."""
    verifier = run.attacker.setdefault("verifier", secrets.token_urlsafe(48))
    challenge = s256(verifier)
    params = {**client.authorize_params(run, config, secrets.token_urlsafe(24)),
              "redirect_uri": _listener(run, config), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    return (run.origin + client.issuer_path(run, lab) + "/authorize?"
            + urlencode(params))


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """``go``: the bait sends the browser to the crafted request; ``callback``:
    the code arrives, and the attacker redeems it at once (RFC 6749 §4.1.3)."""
    if endpoint == "go":
        return crafted.send(run, config, sent, _crafted(run, lab, config))
    if endpoint != "callback":
        return NOT_FOUND
    return crafted.redeem(run, lab, config, sent, _listener(run, config))


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait, or what the attacker got with the code."""
    token = run.entries("attacker-token")
    if token and token[-1].exchange.response is not None:
        answer = token[-1].exchange.response
        return {"heading": "Alice's code arrived here",
                "text": "The attacker redeemed it. The token endpoint answered:",
                "shown": answer.start_line + "\n\n" + answer.pretty_body()}
    return {"heading": "Try TrackTally's new web player",
            "text": "Sign in with your music account to get a month free.",
            "link": f"/labs/{run.lab}/{run.id}/as/go",
            "link_text": "Sign in to TrackTally"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the attacker's token request get tokens (True)? False when
    the authorization server refused the crafted request itself (an error page,
    no redirect: no code can ever come); None until one of them shows (a learner
    who stopped at the sign-in page, or cancelled, decides nothing)."""
    token = run.entries("attacker-token")
    if token and wire.status(token[-1]) == 200:
        return True
    answer = run.entries("crafted-answer")
    return False if answer and wire.status(answer[-1]) == 400 else None
