"""Lab "id-token-validation": JamJar's server signs in whoever presents a valid ID
token, as a phone app's backend does; the attacker presents forged or misused ones
(RFC 8725 §2.1, §3.1, §3.2; OpenID Connect Core §3.1.3.7)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
import requests

from flowlab.core.http import s256
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs import client
from flowlab.labs import idtokens
from flowlab.labs import scripted
from flowlab.labs import wire
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import NOT_FOUND
from flowlab.labs.page import Answer
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run

VICTIM = "alice"
SCOPE = "openid profile"
# Each forgery, and the check of OIDC Core §3.1.3.7 that stops it.
FORGERIES = {"none": "signature", "hs256": "signature", "aud": "aud",
             "nonce": "nonce"}
JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}
KEPT = 8  # sign-ins JamJar's server keeps waiting per run


def _issuer(run: Run, lab: Lab) -> str:
    return run.backchannel + client.issuer_path(run, lab)


def _app(run: Run, endpoint: str) -> str:
    """JamJar's server API (the lab's ``app`` hook)."""
    return f"{run.backchannel}/labs/{run.lab}/{run.id}/app/{endpoint}"


def _post(run: Run, key: str, actor: str, url: str, config: Mapping, **kwargs):
    session = capture_session(requests.Session())
    answer = session.post(url, timeout=config["HTTP_TIMEOUT"], allow_redirects=False,
                          **kwargs)
    run.record(key, actor, "back", exchange_of(session, answer))
    return answer


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """The phone app asks JamJar's server to start a sign-in (a nonce), then signs
    in with OpenID Connect: code, PKCE, that nonce (OIDC Core §3.1.2.1)."""
    begun = _post(run, "start", "victim", _app(run, "start"), config).json()
    run.client["session"] = begun["session"]
    state = run.client["state"] = secrets.token_urlsafe(24)
    verifier = run.client["verifier"] = secrets.token_urlsafe(48)
    params = {**client.authorize_params(run, config, state), "scope": SCOPE,
              "nonce": begun["nonce"], "code_challenge": s256(verifier),
              "code_challenge_method": "S256"}
    return client.authorize_url(run, lab) + "?" + urlencode(params)


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The callback: state checked, the code redeemed, and the id_token handed to
    JamJar's server, which signs the user in with it."""
    run.record("callback", "victim", "front", sent.exchange())
    if not client.state_ok(run, lab, sent.args.get("state")) or not sent.args.get(
            "code"):
        run.client["refused"] = True
        return
    response = client.redeem(run, lab, config, sent.args["code"],
                             run.client.pop("verifier", None))
    if response.ok and response.json().get("id_token"):
        signed = _post(run, "signin", "victim", _app(run, "signin"), config, data={
            "session": run.client.pop("session", ""),
            "id_token": response.json()["id_token"]})
        if signed.ok:
            run.client["linked"] = signed.json()["signed_in"]


def app(run: Run, lab: Lab, endpoint: str, config: Mapping,
        sent: Incoming) -> Answer:
    """JamJar's server: ``start`` a sign-in (a session and its nonce); ``signin``
    with an id_token, checked as the variant's client checks it, the session
    used once."""
    sessions = run.client.setdefault("sessions", {})
    if endpoint == "start":
        session, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        sessions[session] = nonce
        for old in list(sessions)[:-KEPT]:  # the latest few wait; older ones lapse
            del sessions[old]
        return Answer(200, json.dumps({"session": session, "nonce": nonce}), JSON)
    if endpoint != "signin":
        return NOT_FOUND
    nonce = sessions.pop(sent.form.get("session", ""), None)
    status, body = idtokens.sign_in(
        sent.form.get("id_token", ""), nonce=nonce, config=config,
        issuer=sent.host_url.rstrip("/") + client.issuer_path(run, lab),
        client_id=client.credentials(config, run.lab, run.variant)[0],
        checks=lab.variants[run.variant].id_token_checks)
    return Answer(status, json.dumps(body), JSON)


def _quiztune_token(run: Run, lab: Lab, config: Mapping, nonce: str) -> str | None:
    """A genuine id_token for Alice issued to QuizTune, the attacker's own app at
    the sandbox (registered once, RFC 7591), with JamJar's fresh nonce in its
    authorization request."""
    issuer = _issuer(run, lab)
    callback = f"{config['LABS_ATTACKER_URL']}/labs/{run.lab}/{run.id}/as/callback"
    if "quiztune" not in run.attacker:
        made = _post(run, "attacker-register", "attacker", issuer + "/api/register",
                     config, json={"client_name": "QuizTune",
                                   "redirect_uris": [callback]})
        if made.status_code != 201:
            return None
        run.attacker["quiztune"] = [made.json()["client_id"],
                                    made.json()["client_secret"]]
    client_id, secret = run.attacker["quiztune"]
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": client_id, "scope": SCOPE,
              "redirect_uri": callback, "state": secrets.token_urlsafe(16),
              "nonce": nonce, "code_challenge": s256(verifier),
              "code_challenge_method": "S256"}
    location = scripted.code_for(run, config, params, VICTIM,
                                 client.issuer_path(run, lab))
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    token = _post(run, "attacker-token", "attacker", issuer + "/api/token", config,
                  auth=(client_id, secret), data={
                      "grant_type": "authorization_code", "code": code,
                      "redirect_uri": callback, "code_verifier": verifier})
    return token.json().get("id_token") if token.ok else None


def _forged(run: Run, lab: Lab, config: Mapping, kind: str, nonce: str):
    """The id_token the attacker presents for ``kind``."""
    if kind == "aud":
        return _quiztune_token(run, lab, config, nonce)
    now = int(time.time())
    claims = {"iss": _issuer(run, lab), "sub": VICTIM, "iat": now, "exp": now + 600,
              "aud": client.credentials(config, run.lab, run.variant)[0],
              "nonce": nonce}
    if kind == "none":
        return idtokens.forge_none(claims)
    session = capture_session(requests.Session())
    found = session.get(_issuer(run, lab) + "/.well-known/jwks.json",
                        timeout=config["HTTP_TIMEOUT"])
    run.record("attacker-jwks", "attacker", "back", exchange_of(session, found))
    rsa = next(k for k in found.json()["keys"] if k["kty"] == "RSA")
    return idtokens.forge_hs256(claims, rsa)


def _old_token(run: Run) -> str | None:
    """The id_token of the victim's last sign-in at JamJar, as captured."""
    done = run.entries("signin")
    return wire.form(done[-1]).get("id_token") if done else None


def _untried(run: Run) -> list[str]:
    return [kind for kind in FORGERIES if not run.entries(f"attacker-{kind}")
            and (kind != "nonce" or _old_token(run))]


def attacker_view(run: Run, lab: Lab) -> dict:
    """The forgeries not tried yet, one button each, and the last try's answer."""
    tried = [e for e in run.trace if e.key.removeprefix("attacker-") in FORGERIES]
    shown = "Nothing presented yet."
    registered = run.entries("attacker-register")
    if registered and "quiztune" not in run.attacker:  # e.g. the room hit the limit
        shown = (f"The sandbox refused to register QuizTune "
                 f"({registered[-1].exchange.response.start_line}): try again soon.")
    if tried:
        last = tried[-1]
        token = wire.form(last).get("id_token", "")
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
        shown = (f"Presented ({last.key.removeprefix('attacker-')}):\n"
                 f"header  {json.dumps(header)}\npayload {json.dumps(payload)}"
                 f"\n\nJamJar answered {last.exchange.response.start_line}\n"
                 f"{last.exchange.response.pretty_body()}")
    names = {"none": "alg: none, no signature",
             "hs256": "HS256, keyed with the sandbox's public key",
             "aud": "A genuine token issued to QuizTune (aud)",
             "nonce": "Alice's token from her earlier sign-in (nonce)"}
    return {"heading": "Sign in to JamJar as Alice",
            "text": "JamJar's server signs in whoever presents a valid ID token. Pick"
                    " one; the attacker starts a JamJar sign-in and presents it:",
            "leaked": shown, "legend": "ID token to present",
            "buttons": [(kind, names[kind]) for kind in _untried(run)]}


def attacker_act(run: Run, lab: Lab, config: Mapping, choice: str = "") -> None:
    """Start a sign-in at JamJar's server, then present the ``choice`` of id_token
    (each kind once)."""
    if choice not in _untried(run):
        return
    begun = _post(run, "attacker-start", "attacker", _app(run, "start"), config).json()
    token = (_old_token(run) if choice == "nonce"
             else _forged(run, lab, config, choice, begun["nonce"]))
    if token:
        _post(run, f"attacker-{choice}", "attacker", _app(run, "signin"), config,
              data={"session": begun["session"], "id_token": token})


def _decisive(run: Run) -> tuple[bool, str] | None:
    """The first presentation that decides: one that signed the attacker in as
    Alice, else one refused by the check its forgery is aimed at."""
    refused = None
    for entry in run.trace:
        kind = entry.key.removeprefix("attacker-")
        if kind not in FORGERIES:
            continue
        found = wire.answer(entry)
        if wire.status(entry) == 200 and found.get("signed_in") == VICTIM:
            return True, kind
        if wire.status(entry) == 401 and found.get("check") == FORGERIES[kind]:
            refused = refused or (False, kind)
    return refused


def succeeded(run: Run) -> bool | None:
    """On the wire: a forged or misused id_token signed the attacker in as Alice
    (True), or JamJar refused it by the check it is aimed at (False); None before
    (a token of another user's, or a refusal for another reason, decides nothing)."""
    found = _decisive(run)
    return found[0] if found else None


def detail(run: Run) -> str | None:
    """Which forgery decided: the verdict names the check it met, or missed."""
    found = _decisive(run)
    return found[1] if found else None
