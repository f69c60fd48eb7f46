"""A run as a plan for running its flow again: the browser's part and the requests,
with every value that must be fresh (state, verifier, code, tokens) a variable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qsl

from flowlab.core.exports._common import CLIENT_HEADERS
from flowlab.core.exports._common import FORM
from flowlab.core.exports._common import _exchanges
from flowlab.core.exports._common import _steps
from flowlab.core.fields import FormView
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.http import basic_credentials
from flowlab.core.runner.registry import ACTIONS
from flowlab.core.runner.registry import Action

# Parameters whose run values are spent or personal: a new run makes its own.
FRESH = {"code": "CODE", "code_verifier": "CODE_VERIFIER",
         "refresh_token": "REFRESH_TOKEN", "client_secret": "CLIENT_SECRET",
         "state": "STATE", "code_challenge": "CODE_CHALLENGE",
         "access_token": "ACCESS_TOKEN", "device_code": "DEVICE_CODE",
         # RFC 8693 §2.1: the token the client holds then is the one exchanged
         "subject_token": "ACCESS_TOKEN"}
NO_ACTION = Action("", "front")  # a step whose action this lab no longer has


@dataclass(frozen=True)
class Var:
    """A place where a variable goes."""

    name: str


@dataclass
class Replay:
    """One step of the plan: a request, or the browser's part (``method`` empty)."""

    number: int
    title: str
    action: str
    expect: int | None = None
    method: str = ""
    url: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    basic: bool = False
    form: list | None = None
    body: str = ""
    gave: frozenset = frozenset()  # the JSON fields of the lab's answer
    poll: bool = False  # sent again until it answers 200 (RFC 8628 §3.4, §3.5)

    @property
    def declared(self) -> Action:
        """What the step's action declares (``runner.registry``)."""
        return ACTIONS.get(self.action, NO_ACTION)


@dataclass
class Plan:
    """Every step to run again, and the client it runs as."""

    steps: list[Replay]
    client_id: str
    client_secret: str | None
    pkce: bool
    iss: str | None

    def uses(self, name: str) -> bool:
        return any(name in _names(step) for step in self.steps)


def plan(run, flow) -> Plan:
    """The steps of ``run`` (as recorded) to run again with fresh values."""
    secret, client_id = None, None
    steps, iss = [], None
    for number, step, record in _steps(run, flow):
        title = f"Step {number}: {step['title']}"
        action = step.get("action", "")
        if action == "authorize" or record.data.get("url"):  # mcp_authorize too
            url = record.data.get("url", "")
            steps.append(Replay(number, title, "authorize", url=_url_pieces(url)))
        elif ACTIONS.get(action, NO_ACTION).receives:
            params = dict(record.data.get("params", []))
            iss = params.get("iss") or iss
            steps.append(Replay(number, title, action))
        front = ACTIONS.get(action, NO_ACTION).front
        for exchange in [] if front else _exchanges(record):
            replay = _replay(exchange, step, number, title)
            replay.gave = _answer_fields(exchange)
            _add(steps, replay)
            found = _credentials(exchange.request)
            client_id = client_id or found[0]
            secret = secret or found[1]
    client_id = client_id or run.provider.clients.get(flow.client, "")
    result = Plan(steps, client_id, secret, False, iss)
    result.pkce = result.uses("CODE_CHALLENGE") or result.uses("CODE_VERIFIER")
    return result


def _add(steps: list[Replay], replay: Replay) -> None:
    """Append ``replay``; a device's polls, however many the lab sent, become one
    request sent until the tokens come, titled by the last polling step."""
    replay.poll = ACTIONS.get(replay.action, NO_ACTION).channel == "poll" and any(
        Var("DEVICE_CODE") in value for _, value in replay.form or [])
    if not replay.poll:
        steps.append(replay)
        return
    replay.expect = 200
    if steps and steps[-1].poll:
        replay.gave |= steps.pop().gave
    steps.append(replay)


def _replay(exchange: Exchange, step: dict, number: int, title: str) -> Replay:
    message = exchange.request
    method, target = message.start.method, message.start.target
    if not target.startswith(("http://", "https://")):
        target = exchange.url or f"http://{message.header('Host')}{target}"
    headers, basic = [], False
    for name, value in message.headers:
        scheme, _, _ = value.partition(" ")
        if name.lower() in CLIENT_HEADERS:
            continue
        if name.lower() == "authorization" and scheme.lower() == "basic":
            basic = True
        elif name.lower() == "authorization" and scheme.lower() == "bearer":
            headers.append((name, ["Bearer ", Var("ACCESS_TOKEN")]))
        else:
            headers.append((name, [value]))
    replay = Replay(number, title, step.get("action", ""), step.get("expect"),
                    method, _url_pieces(target), headers, basic)
    if message.media_type == FORM:
        previous = step.get("use") == "previous"
        replay.form = [(k, [_fresh(k, previous)] if k in FRESH else [v])
                       for k, v in FormView.pairs(message.text)]
    else:
        replay.body = message.text
    return replay


def _answer_fields(exchange: Exchange) -> frozenset:
    try:
        answer = json.loads(exchange.response.text) if exchange.response else None
    except ValueError:
        answer = None
    return frozenset(answer) if isinstance(answer, dict) else frozenset()


def _fresh(name: str, previous: bool) -> Var:
    if name == "refresh_token" and previous:
        return Var("PREVIOUS_REFRESH_TOKEN")
    return Var(FRESH[name])


def _url_pieces(url: str) -> list:
    """A URL with the values of fresh parameters in its query as variables."""
    base, sep, query = url.partition("?")
    if not sep:
        return [url]
    pieces: list = [base + "?"]
    for i, part in enumerate(query.split("&")):
        name = part.partition("=")[0]
        pieces.append("&" if i else "")
        pieces += [name + "=", Var(FRESH[name])] if name in FRESH else [part]
    return [p for p in pieces if p != ""]


def _credentials(message: Message) -> tuple[str | None, str | None]:
    """``(client_id, client_secret)`` the request authenticated with, if readable."""
    value = message.header("Authorization") or ""
    pair = basic_credentials(value)  # None when masked (not Base64)
    if pair:
        return pair
    if message.media_type == FORM:
        form = dict(parse_qsl(message.text))
        return form.get("client_id"), form.get("client_secret")
    return None, None


def _names(step: Replay) -> set[str]:
    found = list(step.url) + [p for _, v in step.headers for p in v]
    found += [p for _, v in step.form or [] for p in v]
    names = {p.name for p in found if isinstance(p, Var)}
    return names | ({"CLIENT_ID", "CLIENT_SECRET"} if step.basic else set())

