"""The device grant's action (RFC 8628): the two requests a TV or CLI makes.

A step with ``request = "authorization"`` asks for a device code and a user code
(§3.1). A step with ``request = "token"`` polls the token endpoint with the device
code (§3.4), built by oauthlib's ``DeviceClient``, and reports what the engine's
polling reads (``poll.py``): ``pending`` and ``slow_down`` repeat the step, tokens
or an error end it. ``burst = 2`` polls twice without waiting, which is too soon:
the second answer is ``slow_down``, and the interval grows by 5 seconds (§3.5).
Before each poll the action waits out what is left of the interval since the last
one; the runner never calls it sooner than ``GRACE`` seconds before (orchestrate).
"""

from __future__ import annotations

import time

import requests
from oauthlib.oauth2.rfc8628.clients import DeviceClient

from flowlab.core.demo import DEVICE_GRANT
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import Requirement
from flowlab.core.runner.registry import register

SHOWN = ("user_code", "verification_uri", "verification_uri_complete", "expires_in")
OUTCOMES = {"authorization_pending": "pending", "slow_down": "slow_down"}
LONGEST_WAIT = 30.0  # seconds one page request may wait for the interval


def device(run, flow, step, ctx, *, sleep=time.sleep, clock=time.time) -> dict:
    """Step: the device's request that ``step["request"]`` names."""
    session = capture_session(requests.Session())
    try:
        if step.get("request") == "authorization":
            return _authorization(run, ctx, session)
        return _poll(run, step, ctx, session, sleep, clock)
    except requests.RequestException as exc:
        return {"error": transport_error(exc, ctx.timeout)}


def _authorization(run, ctx, session) -> dict:
    """Ask for the codes (§3.1); keep the device code, show the user code (§3.3)."""
    data = {"client_id": ctx.client_id, "scope": ctx.scope or ""}
    answer = session.post(ctx.provider.device_authorization_url or "",
                          data=data, timeout=ctx.timeout)
    record = _record(session, answer)
    body = as_json(answer)
    if answer.status_code != 200 or "device_code" not in body:
        return record | {"error": body.get("error") or "no-device-code"}
    run.secrets["device"] = {
        **{key: body.get(key) for key in SHOWN}, "device_code": body["device_code"],
        "interval": int(body.get("interval") or 5),  # §3.2: 5 when absent
        "last_poll": 0.0,
    }
    return record | {"data": {"device": _shown(run)}}


def _poll(run, step, ctx, session, sleep, clock) -> dict:
    """Poll once or ``burst`` times (§3.4); the last answer decides the outcome."""
    state = run.secrets.get("device") or {}
    if state.get("done"):  # the tokens came already, in an earlier poll
        return {"skipped": True, "outcome": "tokens", "data": {"device": _shown(run)}}
    client = DeviceClient(ctx.client_id)
    exchanges, interval = [], state["interval"]
    for number in range(int(step.get("burst", 1))):
        if number == 0:  # a burst's later polls come too soon, on purpose
            sleep(min(max(state["last_poll"] + interval - clock(), 0), LONGEST_WAIT))
        answer = session.post(
            ctx.provider.token_url, timeout=ctx.timeout,
            data=client.prepare_request_body(state["device_code"],
                                             include_client_id=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        state["last_poll"] = clock()
        exchanges += _record(session, answer)["exchanges"]
        error = as_json(answer).get("error")
        if error == "slow_down":
            state["interval"] += 5  # for this and every later poll (§3.5)
        if error not in OUTCOMES:
            break
    record = {"exchanges": exchanges, "status_code": answer.status_code,
              "interval": interval, "data": {"device": _shown(run)}}
    if error in OUTCOMES:
        return record | {"outcome": OUTCOMES[error], "error": None}
    if answer.status_code != 200:
        return record | {"outcome": error, "error": error or "no-token"}
    _keep_tokens(run, as_json(answer))
    return record | {"outcome": "tokens", "error": None}


def _keep_tokens(run, token: dict) -> None:
    """The tokens, as the other token steps keep them (RFC 6749 §5.1)."""
    run.secrets["device"]["done"] = True
    run.secrets["token"] = token
    if token.get("refresh_token"):
        run.secrets.setdefault("refresh_tokens", []).append(token["refresh_token"])


def _shown(run) -> dict:
    """What the device shows the user: the user code and where to type it."""
    state = run.secrets.get("device") or {}
    return {key: state.get(key) for key in (*SHOWN, "interval")}


def _record(session, answer) -> dict:
    return {"exchanges": [exchange_of(session, answer).to_dict()],
            "status_code": answer.status_code, "error": None}


def _ready_at(run) -> float:
    """When the device may poll again: its last poll plus the interval (§3.5)."""
    state = run.secrets.get("device") or {}
    if not state or state.get("done"):
        return 0.0
    return state["last_poll"] + state["interval"]


def _needs(flow) -> tuple[Requirement, ...]:
    """The grant in the provider's metadata, and a device client of the lab's there."""
    return (Requirement("grant_types", DEVICE_GRANT, "no_device_grant"),
            Requirement("clients", "device", "no_device_client"))


register(Action("device", "poll", device, reads=("device",), issues_token=True,
                requires=_needs, ready_at=_ready_at))
