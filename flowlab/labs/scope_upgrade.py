"""Lab "scope-upgrade": a stolen refresh token and client secret used to ask for
more scope than the user granted (RFC 6749 §6, §3.3)."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run

WANTED = "playlist-read-private"  # what Alice never granted


def _stolen(run: Run) -> tuple[str, list[str]] | None:
    """The refresh token PlaylistPal keeps (its latest) and the scope granted
    with it, as its logged token answer shows."""
    for entry in reversed(run.entries("token")):
        found = wire.answer(entry)
        if wire.status(entry) == 200 and found.get("refresh_token"):
            return found["refresh_token"], found.get("scope", "").split()
    return None


def attacker_view(run: Run, lab: Lab) -> dict:
    """The stolen refresh token and a button to refresh with more scope, or
    what the token endpoint answered."""
    taken = run.entries("attacker-refresh")
    if taken and taken[-1].exchange.response is not None:
        answer = taken[-1].exchange.response
        return {"heading": "The attacker asked for more",
                "text": f"A refresh with {WANTED} added. The token endpoint"
                        " answered:",
                "shown": answer.start_line + "\n\n" + answer.pretty_body()}
    stolen = _stolen(run)
    if stolen is None:
        return {}  # nothing stolen yet: Alice has not signed in
    return {"heading": "Stolen from PlaylistPal's server",
            "text": "Its client secret, and Alice's refresh token with the scope"
                    " she granted:",
            "leaked": f"refresh_token={stolen[0]}\nscope={' '.join(stolen[1])}",
            "button": f"Refresh with {WANTED} added"}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Refresh with the stolen token and PlaylistPal's secret, asking for the
    grant plus ``WANTED``; with a token, list Alice's private playlists."""
    stolen = _stolen(run)
    if stolen is None or run.entries("attacker-refresh"):
        return
    form = {"grant_type": "refresh_token", "refresh_token": stolen[0],
            "scope": " ".join([*stolen[1], WANTED])}
    session, response = client.token_request(run, lab, config, form)
    run.record("attacker-refresh", "attacker", "back", exchange_of(session, response))
    if not response.ok:
        return
    session = capture_session(requests.Session())
    listed = session.get(
        run.backchannel + client.server_path(run, lab) + "/v1/me/playlists",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    run.record("attacker-playlists", "attacker", "back",
               exchange_of(session, listed))


def succeeded(run: Run) -> bool | None:
    """On the wire: was the refresh asking for more than the grant answered with
    the wider scope, and did the API then list the playlists (True)? Refused as
    ``invalid_scope``, or answered no wider than the grant (False)? None until
    the attacker refreshed, or when it was refused for another reason."""
    taken = run.entries("attacker-refresh")
    if not taken:
        return None
    if wire.refused(taken[0], "invalid_scope"):
        return False
    if wire.status(taken[0]) != 200:
        return None  # a revoked or expired token: not the scope check
    granted = set(wire.answer(taken[0]).get("scope", "").split())
    if WANTED not in granted:
        return False  # narrowed to the grant (RFC 6749 §3.3)
    issued = wire.answer(taken[0]).get("access_token")
    return any(wire.status(call) == 200
               and call.exchange.request.header("Authorization") == f"Bearer {issued}"
               for call in run.entries("attacker-playlists"))
