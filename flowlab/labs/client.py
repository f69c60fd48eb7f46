"""The labs' own small OAuth client: one per lab and variant, configured by its TOML.

Deliberately separate from the runner: each lab client is a plain web client whose
weaknesses are switches (``check_state``...), so a lab shows one mistake at a time.
Back-channel calls go through the runner's recording adapter, so what the lab shows
is what went over the wire (RFC 6749 §4.1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from flowlab.core.http import s256
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs.catalogue import Lab
from flowlab.labs.page import Incoming
from flowlab.labs.store import Run

SCOPE = "user-read-private user-read-email"
WEAK_PATH = "/sandbox/lab-weak"  # the issuer of every learner's weak server


def credentials(config: Mapping, lab: str, variant: str) -> tuple[str, str]:
    """The lab client's id and secret, derived from the app's key (as ``demo``)."""
    key = config["SECRET_KEY"].encode()

    def derive(label: str) -> str:
        return hmac.new(key, f"lab:{lab}:{variant}:{label}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    return derive("client-id"), derive("client-secret")


def weak_credentials(config: Mapping, lab: str, configuration: str) -> tuple[str, str]:
    """The id and secret of the lab client of one learner's weak server: the id
    carries the configuration (``weak-<configuration>-…``), which is how the weak
    issuer finds the switches it applies (``weak_issuer``)."""
    client_id, secret = credentials(config, lab, f"yours:{configuration}")
    return f"weak-{configuration}-{client_id[:16]}", secret


def run_credentials(run: Run, config: Mapping) -> tuple[str, str]:
    """The id and secret of the client a run uses: its variant's, or, for a run
    against the learner's own server, that configuration's."""
    if "weak_server" in run.client:
        return weak_credentials(config, run.lab, run.client["weak_server"])
    return credentials(config, run.lab, run.variant)


def callback_path(lab: str, variant: str) -> str:
    return f"/labs/{lab}/{variant}/callback"


def redirect_uri(run: Run) -> str:
    return (run.redirect_base or run.origin) + callback_path(run.lab, run.variant)


def issuer_path(run: Run, lab: Lab) -> str:
    """Where the variant's authorization server lives: the sandbox, one of its
    profiles (``issuer = "best-practice"``), or this lab's own issuer path for a
    vulnerable server (``issuer = "lab"``), or the weak server the learner built
    (``issuer = "weak"``)."""
    variant = lab.variants[run.variant]
    if variant.issuer == "weak":
        return WEAK_PATH
    if variant.issuer in ("sandbox", "lab"):
        return f"/sandbox/lab-{lab.id}" if variant.issuer == "lab" else "/sandbox"
    return variant.issuer_path  # a profile's, found at start-up (``labs.init_app``)


def token_url(run: Run, lab: Lab) -> str:
    return run.backchannel + issuer_path(run, lab) + "/api/token"


def server_path(run: Run, lab: Lab) -> str:
    """Where the authorize endpoint and the API are: a lab issuer serves only a
    token endpoint, so its codes and its API are the sandbox's; the weak server
    has its own authorize pages, and the sandbox's API."""
    if lab.variants[run.variant].issuer in ("lab", "weak"):
        return "/sandbox"
    return issuer_path(run, lab)


def authorize_url(run: Run, lab: Lab) -> str:
    if lab.variants[run.variant].issuer == "weak":
        return run.origin + WEAK_PATH + "/authorize"
    return run.origin + server_path(run, lab) + "/authorize"


def authorize_params(run: Run, config: Mapping, state: str) -> dict:
    client_id, _ = run_credentials(run, config)
    return {"response_type": "code", "client_id": client_id, "scope": SCOPE,
            "redirect_uri": redirect_uri(run), "state": state}


def start_login(run: Run, lab: Lab, config: Mapping) -> str:
    """Step 1: a fresh state (and, with ``pkce``, a verifier) kept in the run, then
    the authorization URL (RFC 6749 §4.1.1, §10.12; RFC 7636 §4.1-4.3)."""
    state = run.client["state"] = secrets.token_urlsafe(24)
    params = authorize_params(run, config, state)
    if lab.variants[run.variant].pkce:
        verifier = run.client["verifier"] = secrets.token_urlsafe(48)
        params.update(code_challenge_method="S256", code_challenge=s256(verifier))
    return authorize_url(run, lab) + "?" + urlencode(params)


def state_ok(run: Run, lab: Lab, sent: str | None) -> bool:
    """The defended client's check: the state it stored for this browser, used once
    (RFC 6749 §10.12, RFC 9700 §4.7.1); the vulnerable one skips it."""
    if not lab.variants[run.variant].check_state:
        return True
    expected = run.client.pop("state", None)
    return bool(expected and sent) and hmac.compare_digest(expected, sent)


def redeem(run: Run, lab: Lab, config: Mapping, code: str,
           verifier: str | None = None) -> requests.Response:
    """Step 2: the token request, client secret in HTTP Basic, and the verifier of
    this browser's sign-in if it made one (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri(run)}
    if verifier:
        form["code_verifier"] = verifier
    response = token_request(run, lab, config, form)
    run.record("token", "victim", "back", exchange_of(*response))
    return response[1]


def token_request(run: Run, lab: Lab, config: Mapping, form: dict,
                  url: str | None = None, headers: dict | None = None):
    """A token request as this lab's client makes it: its secret in HTTP Basic, or,
    for a public client, only its ``client_id`` (RFC 6749 §2.3.1, §3.2.1), with
    any ``headers`` (a DPoP proof). Returns the capturing session and the response."""
    client_id, secret = run_credentials(run, config)
    auth = None if lab.public else (client_id, secret)
    if lab.public:
        form = {**form, "client_id": client_id}
    session = capture_session(requests.Session())
    response = session.post(
        url or token_url(run, lab), auth=auth, data=form, headers=headers,
        timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    return session, response


def call_me(run: Run, config: Mapping, access_token: str, key: str = "me",
            actor: str = "victim", api: str = "/sandbox") -> dict:
    """The API call that tells the client whose account it got (Spotify /v1/me),
    at the API of the issuer under ``api``."""
    session = capture_session(requests.Session())
    response = session.get(run.backchannel + api + "/v1/me",
                           headers={"Authorization": f"Bearer {access_token}"},
                           timeout=config["HTTP_TIMEOUT"], allow_redirects=False)
    run.record(key, actor, "back", exchange_of(session, response))
    return response.json() if response.ok else {}


def finish_login(run: Run, lab: Lab, config: Mapping, sent: Incoming) -> None:
    """The callback: check state (or not), redeem the code, learn the account."""
    args = sent.args
    run.record("callback", "victim", "front", sent.exchange())
    if not state_ok(run, lab, args.get("state")) or not args.get("code"):
        run.client["refused"] = True
        return
    response = redeem(run, lab, config, args["code"], run.client.pop("verifier", None))
    if not response.ok:
        return
    run.client["access_token"] = response.json().get("access_token")
    if response.json().get("refresh_token"):
        run.client["refresh_token"] = response.json()["refresh_token"]
    run.client["linked"] = call_me(run, config, run.client["access_token"],
                                   api=server_path(run, lab)).get("display_name")
