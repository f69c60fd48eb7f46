"""The attacker's two moves in the labs whose redirect URI it crafts ("redirect-uri",
"open-redirect"): send the victim's browser to the crafted authorization request,
then redeem the code that arrives at its listener, with its own PKCE verifier
(RFC 6749 §4.1.3, RFC 7636 §4.5)."""

from __future__ import annotations

from collections.abc import Mapping

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import scripted
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.page import redirect
from flowlab.labs.store import Run


def send(run: Run, config: Mapping, sent: Incoming, url: str) -> Answer:
    """The bait's redirect to ``url``, recorded, and what the server answers it
    (asked once, as a browser not signed in would)."""
    answer = Message("HTTP/1.1 302 Found", [("Location", url)])
    run.record("crafted", "attacker", "front",
               Exchange(sent.message, answer, url=sent.url))
    if not run.entries("crafted-answer"):
        scripted.ask(run, config, url, "crafted-answer")
    return redirect(url, 302)


def redeem(run: Run, lab: Lab, config: Mapping, sent: Incoming,
           redirect_uri: str) -> Answer:
    """What arrived at the listener, recorded; its code redeemed at once, once, and
    the account read with the token; then back to the attacker's page."""
    run.record("intercepted", "attacker", "front", sent.exchange())
    code = sent.args.get("code")
    if code and not run.entries("attacker-token"):
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": run.attacker.get("verifier", "")}
        session, response = client.token_request(run, lab, config, form)
        run.record("attacker-token", "attacker", "back",
                   exchange_of(session, response))
        if response.ok:
            client.call_me(run, config, response.json()["access_token"],
                           key="attacker-me", actor="attacker")
    return redirect(f"/labs/{run.lab}/{run.id}", 303)
