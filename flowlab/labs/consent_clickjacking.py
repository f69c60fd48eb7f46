"""Lab "consent-clickjacking": the attacker's page frames the consent page for the
attacker's own app, invisible over a bait, and the victim's click lands on Agree
(RFC 9700 §4.16, RFC 6749 §10.13)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Entry
from flowlab.labs.store import Run


def frame_url(run: Run, lab: Lab, config: Mapping) -> str:
    """The authorization request the decoy frames: the attacker's app, its own
    redirect URI, and ``show_dialog=true`` so the consent page is always shown."""
    state = run.client.setdefault("state", secrets.token_urlsafe(24))
    params = {**client.authorize_params(run, config, state), "show_dialog": "true"}
    return run.origin + client.issuer_path(run, lab) + "/authorize?" + urlencode(
        params)


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """Alice signs in to the sandbox, at the same request shown whole: she sees
    the attacker's app asking, and may refuse it."""
    return frame_url(run, lab, config)


def decoy(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> dict:
    """The decoy page as the victim loads it; the attacker first fetches the page
    it frames, to see whether a browser will show it framed."""
    run.record("decoy", "victim", "front", sent.exchange())
    url = frame_url(run, lab, config)
    session = capture_session(requests.Session())
    try:
        response = session.get(url, timeout=config["HTTP_TIMEOUT"])
    except requests.TooManyRedirects as exc:
        response = exc.response
    run.record("framed", "attacker", "front", exchange_of(session, response))
    return {"heading": "You won a year of Premium!",
            "text": "One click and it is yours. Offer ends today.",
            "button": "Click to claim your prize", "frame": url,
            "back": f"{run.origin}/labs/{lab.id}/{run.variant}"}


def intercept(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> Answer | None:
    """The attacker's redirect URI: the code goes straight to its token endpoint
    (it is the attacker's app, with its own secret). Inside the frame it answers
    204, so the frame stays as it was and the victim sees nothing happen."""
    run.record("intercepted", "attacker", "front", sent.exchange())
    code = sent.args.get("code")
    framed = sent.message.header("Sec-Fetch-Dest") == "iframe"
    if code:
        _redeem(run, lab, config, code)
    return Answer(204) if framed else None


def _redeem(run: Run, lab: Lab, config: Mapping, code: str) -> None:
    """The attacker's app redeems the code with its secret (RFC 6749 §4.1.3) and
    reads whose account the token opens."""
    session, response = client.token_request(run, lab, config, {
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": client.redirect_uri(run)})
    run.record("attacker-token", "attacker", "back", exchange_of(session, response))
    if response.ok:
        me = client.call_me(run, config, response.json()["access_token"],
                            key="attacker-me", actor="attacker")
        run.attacker["account"] = me.get("display_name")


def attacker_view(run: Run, lab: Lab) -> dict:
    """The prize page's link (the lure); then what the attacker's app got."""
    if run.attacker.get("account"):
        return {"heading": "The attacker's app got a token",
                "text": "A code for the attacker's app arrived, and bought a token "
                        "for this account:", "shown": run.attacker["account"]}
    decoy_url = run.attacker.get("decoy")
    if not decoy_url:
        return {}
    return {"heading": "A prize for every listener", "link": decoy_url,
            "link_text": "Open the prize page",
            "text": "The attacker's message leads to its prize page."}


def prepare(run: Run, lab: Lab, config: Mapping) -> None:
    """Where the decoy page of this run will be (``LABS_DECOY_URL``)."""
    base = config.get("LABS_DECOY_URL")
    if base:
        run.attacker["decoy"] = f"{base}/labs/{lab.id}/{run.id}/decoy"


def refuses_framing(entry: Entry) -> bool:
    """Does the framed page's answer forbid other sites to frame it (CSP
    ``frame-ancestors 'none'`` or ``'self'``, or ``X-Frame-Options``)?"""
    answer = entry.exchange.response
    if answer is None:
        return False
    policy = (answer.header("Content-Security-Policy") or "").lower()
    ancestors = [d.split()[1:] for d in policy.split(";")
                 if d.split()[:1] == ["frame-ancestors"]]
    denied = (answer.header("X-Frame-Options") or "").upper() in ("DENY",
                                                                  "SAMEORIGIN")
    return denied or any(a in (["'none'"], ["'self'"]) for a in ancestors)


def succeeded(run: Run) -> bool | None:
    """On the wire: did a code for the attacker's app arrive from inside a frame
    (``Sec-Fetch-Dest: iframe``: the consent was given there) for this run (True)?
    False once the decoy was shown and the page it frames forbids framing; a code
    from a consent given on the page itself (a learner who agreed knowingly) or a
    refusal decides nothing."""
    state = run.client.get("state")
    for entry in run.entries("intercepted"):
        sent = wire.query(entry)
        framed = entry.exchange.request.header("Sec-Fetch-Dest") == "iframe"
        if framed and sent.get("code") and state and sent.get("state") == state:
            return True
    if any(refuses_framing(e) for e in run.entries("framed")):
        return False
    return None
