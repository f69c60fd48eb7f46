"""Lab "device-code-phishing": the attacker starts a device flow and sends the victim
its ``user_code``; a victim who approves it hands the attacker's polling device her
tokens (RFC 8628 §5.4, draft-ietf-oauth-cross-device-security)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.store import Run

GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
REFUSED = ("access_denied",)  # what only the victim's answer causes (§3.5)


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """The attacker asks for a device code as the (public) TV app, as anyone may
    (RFC 8628 §3.1): the codes it gets are the bait."""
    url = run.backchannel + client.issuer_path(run, lab) + "/api/device"
    session, response = client.token_request(
        run, lab, config, {"scope": client.SCOPE}, url=url)
    run.record("attacker-device", "attacker", "back", exchange_of(session, response))
    if response.ok:
        answer = response.json()
        run.attacker.update(device_code=answer["device_code"],
                            user_code=answer["user_code"],
                            page=urlsplit(answer["verification_uri"]).path)


def attacker_view(run: Run, lab: Lab) -> dict:
    """The lure as the attacker sends it, and the button that polls; the loot once
    a poll brought tokens."""
    code = run.attacker.get("user_code")
    if not code:
        return {}
    view = {"heading": f"Message to Alice: “Keep {lab.client_name} running”",
            "text": f"{lab.client_name} on your TV needs you to confirm your "
                    f"account. Open the link and enter the code {code} within ten "
                    "minutes, or your playlists stop playing.",
            "link": f"{run.origin}{run.attacker['page']}?user_code={code}",
            "link_text": f"Confirm with code {code}",
            "button": "Poll the token endpoint with the device code"}
    if run.attacker.get("account"):
        view["loot"] = f"Signed in to {run.attacker['account']}'s account"
    return view


def attacker_act(run: Run, lab: Lab, config: Mapping) -> None:
    """The attacker's device polls the token endpoint once (RFC 8628 §3.4); with
    tokens, it reads whose account it got."""
    device_code = run.attacker.get("device_code")
    if not device_code:
        return
    session, response = client.token_request(
        run, lab, config, {"grant_type": GRANT, "device_code": device_code})
    run.record("attacker-poll", "attacker", "back", exchange_of(session, response))
    token = response.json().get("access_token") if response.ok else None
    if token:
        me = client.call_me(run, config, token, key="attacker-me", actor="attacker",
                            api=client.server_path(run, lab))
        run.attacker["account"] = me.get("display_name")


def succeeded(run: Run) -> bool | None:
    """On the wire: did a poll with the attacker's device code get tokens (True),
    or ``access_denied``, the victim's refusal (False)? ``authorization_pending``,
    ``slow_down`` and ``expired_token`` decide nothing: a victim who ignores the
    lure, or a code that ran out, says nothing of the page she was shown."""
    polls = [e for e in run.entries("attacker-poll")
             if wire.form(e).get("device_code") == run.attacker.get("device_code")]
    if any(wire.status(e) == 200 and wire.answer(e).get("access_token")
           for e in polls):
        return True
    if any(wire.status(e) == 400 and wire.answer(e).get("error") in REFUSED
           for e in polls):
        return False
    return None
