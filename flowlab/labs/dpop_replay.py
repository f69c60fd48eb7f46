"""Lab "dpop-replay": a captured API request with a DPoP-bound token and its proof,
sent again by whoever captured it. A resource server that keeps no ``jti`` and asks
for no nonce accepts it (RFC 9449 §11.1, §8, §9; §4.3 lists the checks)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.runner import jose
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Incoming
from flowlab.labs.resource import api_base
from flowlab.labs.resource import me_url
from flowlab.labs.store import Run

NONCE = "use_dpop_nonce"


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The client's sign-in (PKCE); with the lab's own API, a token meant for it
    (RFC 8707 §2.1)."""
    url = client.start_login(run, lab, config)
    if lab.variants[run.variant].api == "lab":
        url += "&" + urlencode({"resource": api_base(run.backchannel, lab.id,
                                                     run.variant)})
    return url


def _with_nonce(run: Run, key: str, send) -> requests.Response:
    """Send, and once more with the server's nonce if it asks for one (RFC 9449
    §8, §9): both exchanges on the wire, under ``key``."""
    nonce = None
    for _ in range(2):
        session, response = send(nonce)
        run.record(key, "victim", "back", exchange_of(session, response))
        nonce = response.headers.get("DPoP-Nonce")
        if response.ok or not nonce or NONCE not in (
                response.text + response.headers.get("WWW-Authenticate", "")):
            break
    return response


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The callback: state checked; the code redeemed with a DPoP proof by the
    client's own key (§5); the account read with the bound token (§7.1)."""
    run.record("callback", "victim", "front", sent.exchange())
    if not client.state_ok(run, lab, sent.args.get("state")) or not sent.args.get(
            "code"):
        run.client["refused"] = True
        return
    key = run.client.setdefault("dpop_key", jose.new_key())
    form = {"grant_type": "authorization_code", "code": sent.args["code"],
            "redirect_uri": client.redirect_uri(run),
            "code_verifier": run.client.pop("verifier", "")}
    url = client.token_url(run, lab)
    token = _with_nonce(run, "token", lambda nonce: client.token_request(
        run, lab, config, form, headers={"DPoP": jose.proof(key, "POST", url, nonce)}))
    if not token.ok:
        return
    access = token.json()["access_token"]
    api = me_url(run, lab)

    def call(nonce):
        session = capture_session(requests.Session())
        return session, session.get(api, timeout=config["HTTP_TIMEOUT"], headers={
            "Authorization": f"DPoP {access}",
            "DPoP": jose.proof(key, "GET", api, nonce, access)}, allow_redirects=False)

    me = _with_nonce(run, "me", call)
    if me.ok:
        run.client["linked"] = me.json().get("display_name") or me.json().get("id")


def _captured(run: Run):
    """The client's last API call that worked: what the logging proxy kept."""
    done = [e for e in run.entries("me") if wire.status(e) == 200]
    return done[-1] if done else None


def attacker_view(run: Run, lab: Lab) -> dict:
    """The captured request and a button to send it again; then the answer."""
    if run.entries("replay"):
        answer = run.entries("replay")[0].exchange.response
        challenge = answer.header("WWW-Authenticate")
        return {"heading": "The attacker sent the captured request again",
                "text": "The music API answered:",
                "shown": answer.start_line + (
                    f"\nWWW-Authenticate: {challenge}" if challenge else "")
                + "\n\n" + answer.pretty_body()}
    entry = _captured(run)
    if entry is None:
        return {"heading": "Nothing captured yet",
                "text": "The client has made no API call: sign in first."}
    sent = entry.exchange.request
    return {"heading": "A logging proxy's capture",
            "text": "A debugging proxy between the app and the music API kept this"
                    " whole request:",
            "leaked": f"{sent.start_line}\nHost: {sent.header('Host')}\n"
                      f"Authorization: {sent.header('Authorization')}\n"
                      f"DPoP: {sent.header('DPoP')}",
            "button": "Replay the captured request"}


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """Send the captured request again, headers unchanged, once."""
    entry = _captured(run)
    if entry is None or run.entries("replay"):
        return
    sent = entry.exchange.request
    session = capture_session(requests.Session())
    answer = session.get(entry.exchange.url, timeout=config["HTTP_TIMEOUT"],
                         allow_redirects=False,
                         headers={name: sent.header(name)
                                  for name in ("Authorization", "DPoP")})
    run.record("replay", "attacker", "back", exchange_of(session, answer))


def succeeded(run: Run) -> bool | None:
    """On the wire: a proof the client's call used and the API accepted, sent
    again, was accepted (True) or refused for being replayed: a used jti
    (``invalid_dpop_proof``) or a nonce (``use_dpop_nonce``) (False). A refusal for
    the proof's age or an expired token decides nothing, nor does no replay."""
    used = {e.exchange.request.header("DPoP") for e in run.entries("me")
            if wire.status(e) == 200}
    for entry in run.entries("replay"):
        if entry.exchange.request.header("DPoP") not in used:
            continue
        if wire.status(entry) == 200:
            return True
        challenge = entry.exchange.response.header("WWW-Authenticate") or ""
        if wire.status(entry) == 401 and (
                'error="use_dpop_nonce"' in challenge
                or ('error="invalid_dpop_proof"' in challenge
                    and "used before" in challenge)):
            return False
    return None
