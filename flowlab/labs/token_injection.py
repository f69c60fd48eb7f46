"""Lab "token-injection": a "login with OAuth" client whose server trusts the user
data its page posts with an access token (RFC 9700 §4.6, RFC 6749 §10.16); the
defended server asks the sandbox whose token it is (RFC 7662)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run

FIELDS = ("email", "username", "token")  # what the page's script posts


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The implicit grant: the token comes back in the fragment (RFC 6749 §4.2.1)."""
    state = run.client["state"] = secrets.token_urlsafe(24)
    params = {**client.authorize_params(run, config, state), "response_type": "token"}
    return client.authorize_url(run, lab) + "?" + urlencode(params)


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming):
    """The sign-in page: its script reads the fragment's token, asks /v1/me, and
    posts what it learnt back here (``finish_post``). An error goes back."""
    run.record("callback", "victim", "front", sent.exchange())
    if sent.args.get("error"):
        run.client["refused"] = "You cancelled the sign-in: StageDoor got no token."
        return None
    return Answer(template="labs/token_login.html", headers={
        "Cache-Control": "no-store"}, context=dict(
        lab=lab, variant=lab.variants[run.variant],
        action=client.callback_path(run.lab, run.variant),
        me=client.server_path(run, lab) + "/v1/me",
        back=f"/labs/{run.lab}/{run.variant}"))


def _introspect(run: Run, lab: Lab, config: Mapping, token: str) -> bool:
    """Is ``token`` live and StageDoor's? The sandbox answers ``active`` only for
    the caller's own tokens (RFC 7662 §2.2)."""
    client_id, secret = client.credentials(config, run.lab, run.variant)
    session = capture_session(requests.Session())
    response = session.post(
        run.backchannel + client.server_path(run, lab) + "/api/introspect",
        auth=(client_id, secret), data={"token": token},
        timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    run.record("introspect", "victim", "back", exchange_of(session, response))
    found = response.json() if response.ok else {}
    return found.get("active") is True and found.get("client_id") == client_id


def _account(run: Run, lab: Lab, config: Mapping, posted: dict) -> str | None:
    """The email of the account to sign in: the posted one (vulnerable), or the
    one /v1/me names for a token issued to StageDoor (defended)."""
    if not lab.variants[run.variant].check_token:
        return posted["email"] or None
    if not posted["token"] or not _introspect(run, lab, config, posted["token"]):
        return None
    me = client.call_me(run, config, posted["token"], api=client.server_path(run, lab))
    return me.get("email")


def finish_post(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> Answer:
    """StageDoor's server gets the page's post, signs an account in and says which
    in its answer (the form's token is not recorded: it is the lab's own)."""
    posted = {name: sent.form.get(name, "") for name in FIELDS}
    account = _account(run, lab, config, posted)
    run.client["linked"] = account or run.client.get("linked")
    run.client["refused"] = None if account else (
        "StageDoor refused the sign-in: the sandbox did not vouch for the token.")
    back = f"/labs/{run.lab}/{run.variant}#trace"
    body = json.dumps({"signed_in": account})
    headers = {"Location": back, "Cache-Control": "no-store"}
    request = Message(sent.message.start_line, [
        *sent.message.headers,
        ("Content-Type", "application/x-www-form-urlencoded")], urlencode(posted))
    answer = Message("HTTP/1.1 303 See Other", [
        *headers.items(), ("Content-Type", "application/json")], body)
    run.record("sign-in", "victim", "front", Exchange(request, answer, url=sent.url))
    return Answer(303, body, headers, mimetype="application/json")


def resend_form(run: Run, lab: Lab) -> dict | None:
    """The last sign-in request, its fields ready to edit and send again."""
    posts = run.entries("sign-in")
    if not posts:
        return None
    fields = wire.form(posts[-1])
    return {"action": client.callback_path(run.lab, run.variant),
            "fields": [(name, fields.get(name, "")) for name in FIELDS]}


def attacker_view(run: Run, lab: Lab) -> dict:
    """Bob needs nothing from this page: Alice's email address is public."""
    return {"heading": "What Bob knows about Alice",
            "text": "Her email address, from her public profile: alice@example.org."}


def _owner(run: Run, token: str) -> str | None:
    """Whose token it is, as the wire shows: the email /v1/me gave for it, else
    the email first posted with it by the page's own script."""
    for call in run.entries("me"):
        if (call.exchange.request.header("Authorization") == f"Bearer {token}"
                and wire.status(call) == 200):
            return wire.answer(call).get("email")
    first = [wire.form(p) for p in run.entries("sign-in")
             if wire.form(p).get("token") == token]
    return first[0].get("email") if first else None


def succeeded(run: Run) -> bool | None:
    """On the wire: did a sign-in answer name an account other than the posted
    token's owner (True)? False when a post sent one account's token with
    another's email and the answer named the owner; None until such a post (a
    cancelled sign-in, a repeat, a made-up token decide nothing)."""
    tried = False
    for post in run.entries("sign-in"):
        sent, said = wire.form(post), wire.answer(post).get("signed_in")
        owner = _owner(run, sent.get("token", ""))
        if owner and said and said != owner:
            return True
        tried = tried or bool(owner and sent.get("email") != owner and said == owner)
    return False if tried else None
