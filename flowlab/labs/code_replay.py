"""Lab "code-replay": a logged token request sent again (RFC 6749 §4.1.2, §10.5)."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run


def _logged(run: Run):
    """The client's token request, as its over-eager log kept it: a code it
    redeemed, so a replay sends a code already used once."""
    found = [e for e in run.entries("token")
             if e.actor == "victim" and wire.status(e) == 200]
    return found[0].exchange if found else None


def attacker_view(run: Run, lab: Lab) -> dict:
    """The leaked log line, and a button to replay it."""
    logged = _logged(run)
    return {"leaked": logged.request.as_http() if logged else None,
            "button": "Replay the logged token request" if logged else None}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Send the logged request again: same URL, credentials and form body."""
    logged = _logged(run)
    if logged is None or run.entries("replay"):
        return
    session = capture_session(requests.Session())
    headers = {"Authorization": logged.request.header("Authorization") or "",
               "Content-Type": "application/x-www-form-urlencoded"}
    response = session.post(logged.url, data=logged.request.body,
                            headers=headers, timeout=config["HTTP_TIMEOUT"],
                            allow_redirects=False)
    run.record("replay", "attacker", "back", exchange_of(session, response))


def recheck(run: Run, lab: Lab, config: Mapping) -> str | None:
    """The victim's client uses its access token again; before it has one, nothing
    is sent and the answer names what is missing."""
    if not run.client.get("access_token"):
        return "sign-in"
    client.call_me(run, config, run.client["access_token"], key="recheck")
    return None


def succeeded(run: Run) -> bool | None:
    """On the wire: did the replayed request get tokens (True), or was the used
    code refused (False)? None before the replay."""
    replay = run.entries("replay")
    if not replay:
        return None
    if wire.status(replay[-1]) == 200:
        return True
    return False if wire.refused(replay[-1]) else None
