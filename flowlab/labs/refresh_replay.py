"""Lab "refresh-replay": a public client's refresh token used by two parties,
undetected without rotation, revoking the grant with it (RFC 9700 §4.14)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run


def _stolen(run: Run) -> tuple[str, str] | None:
    """The refresh token from the app's backup (its latest), and the token
    endpoint the app uses (as its own logged token request shows)."""
    for entry in reversed(run.entries("token")):  # the one the app holds now
        if entry.exchange.response is not None and entry.exchange.response.body:
            try:
                token = json.loads(entry.exchange.response.body).get("refresh_token")
            except ValueError:
                continue
            if token:
                return token, entry.exchange.url
    return None


def attacker_view(run: Run, lab: Lab) -> dict:
    """The leaked refresh token, and a button to use it."""
    if run.entries("attacker-refresh"):
        answer = run.entries("attacker-refresh")[-1].exchange.response
        return {"heading": "The attacker refreshed with the stolen token",
                "text": "The token endpoint answered:",
                "shown": answer.start_line + "\n\n" + answer.pretty_body()}
    stolen = _stolen(run)
    return {"leaked": stolen and f"refresh_token={stolen[0]}",
            "button": stolen and "Refresh with the stolen token"}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Refresh with the stolen token, then read the account with the new access
    token (RFC 6749 §6)."""
    stolen = _stolen(run)
    if stolen is None or run.entries("attacker-refresh"):
        return
    form = {"grant_type": "refresh_token", "refresh_token": stolen[0]}
    session, response = client.token_request(run, lab, config, form, url=stolen[1])
    run.record("attacker-refresh", "attacker", "back", exchange_of(session, response))
    if response.ok:
        run.attacker["access_token"] = response.json()["access_token"]
        client.call_me(run, config, run.attacker["access_token"], key="attacker-me",
                       actor="attacker", api=client.server_path(run, lab))


def recheck(run: Run, lab: Lab, config: Mapping) -> str | None:
    """The app refreshes with its own refresh token; then the attacker's access
    token is tried again. Before both exist nothing is sent, and the answer names
    what is missing (a key of the step's ``missing`` texts)."""
    if not run.client.get("refresh_token"):
        return "sign-in"
    if not run.attacker.get("access_token"):
        return "attacker"
    form = {"grant_type": "refresh_token", "refresh_token": run.client["refresh_token"]}
    session, response = client.token_request(run, lab, config, form)
    run.record("refresh", "victim", "back", exchange_of(session, response))
    client.call_me(run, config, run.attacker["access_token"], key="attacker-check",
                   actor="attacker", api=client.server_path(run, lab))
    return None


def succeeded(run: Run) -> bool | None:
    """On the wire: once the attacker refreshed with the stolen token and the app
    refreshed with that same token, does the attacker's access token still work
    (True) or not (False)? None until both used it (an app that signed in again
    holds another grant's token: that refresh decides nothing)."""
    taken = run.entries("attacker-refresh")
    if not taken or wire.status(taken[0]) != 200:
        return None
    stolen, shared = wire.form(taken[0]).get("refresh_token"), False
    for entry in wire.since(run, taken[0]):
        if entry.key == "refresh":
            shared = wire.form(entry).get("refresh_token") == stolen
        elif entry.key == "attacker-check" and shared:
            return {200: True, 401: False}.get(wire.status(entry))
    return None
