"""Lab "code-interception": another app on the device gets the redirect and redeems
the code (RFC 7636 §1, RFC 8252 §8.1)."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run


def intercept(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The other app receives the redirect and at once redeems the code with the
    credentials every copy of the real app ships with, but no verifier."""
    run.record("intercepted", "attacker", "front", sent.exchange())
    code = sent.args.get("code")
    if not code or run.entries("attacker-token"):
        return
    client_id, secret = client.credentials(config, run.lab, run.variant)
    session = capture_session(requests.Session())
    response = session.post(
        client.token_url(run, lab), auth=(client_id, secret),
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": client.redirect_uri(run)},
        timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    run.record("attacker-token", "attacker", "back", exchange_of(session, response))
    if response.ok:
        client.call_me(run, config, response.json()["access_token"],
                       key="attacker-me", actor="attacker")


def attacker_view(run: Run, lab: Lab) -> dict:
    """What the other app got: the token response, tokens or an error."""
    token = run.entries("attacker-token")
    if not token or token[-1].exchange.response is None:
        return {}
    answer = token[-1].exchange.response
    return {"heading": "The other app caught the redirect",
            "text": "It redeemed the code at once. The token endpoint answered:",
            "shown": answer.start_line + "\n\n" + answer.pretty_body()}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the other app's token request get tokens (True), or was it
    refused (False)? None until it redeems an intercepted code (a cancelled sign-in
    brings none)."""
    token = run.entries("attacker-token")
    return {200: True, 400: False}.get(wire.status(token[-1])) if token else None
