"""Replays: the back-channel requests of a run, with secrets as variables."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ..exchange import Exchange
from ..exchange import FormView
from ..exchange import Message
from ..runner.engine import FRONT_CHANNEL
from ..runner.present import Redactor
from ._common import CLIENT_HEADERS
from ._common import FORM
from ._common import _exchanges
from ._common import _steps


@dataclass(frozen=True)
class Var:
    """A place in a replayed request where a variable goes."""

    name: str


@dataclass
class Replay:
    """One back-channel request, split into literal text and variables."""

    title: str
    method: str
    url: list
    headers: list
    basic: tuple | None
    form: list | None
    body: list
    answer: str


class Variables:
    """Names for the secrets of a run, in the order the run first used them."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = set(secrets)
        self.names: dict[str, str] = {}
        self.plain: dict[str, str] = {}
        ordered = sorted(self.secrets, key=len, reverse=True)
        self.pattern = (re.compile("(" + "|".join(map(re.escape, ordered)) + ")")
                        if ordered else None)

    def name(self, value: str, hint: str) -> None:
        """Name ``value`` after the field it was found in, if it is a secret."""
        if value not in self.secrets or value in self.names:
            return
        base = re.sub(r"[^A-Z0-9]+", "_", hint.upper()).strip("_") or "SECRET"
        taken = set(self.names.values()) | set(self.plain)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        self.names[value] = name

    def pieces(self, text: str) -> list:
        """``text`` as literal strings and ``Var``\\ s where secrets were."""
        if self.pattern is None:
            return [text] if text else []
        parts = self.pattern.split(text)
        return [Var(self.names.get(p) or self._late(p)) if i % 2 else p
                for i, p in enumerate(parts) if p]

    def _late(self, value: str) -> str:
        self.name(value, "SECRET")
        return self.names[value]

    def values(self, used: set[str]) -> list[tuple[str, str, bool]]:
        """``(name, value, secret)`` for each variable in ``used``, plain ones first."""
        plain = [(k, v, False) for k, v in self.plain.items() if k in used]
        return plain + [(k, v, True) for v, k in self.names.items() if k in used]


def _learn(variables: Variables, message: Message) -> None:
    """Name the secrets a message carries, after their field or header."""
    for where, name, value in message.fields():
        if where != "header":
            variables.name(value, name.split(".")[-1].replace("[]", ""))
        elif name.lower() == "authorization":
            scheme, _, credentials = value.partition(" ")
            if scheme.lower() == "bearer":
                variables.name(credentials, "ACCESS_TOKEN")
            elif scheme.lower() == "basic" and _basic(credentials):
                variables.name(_basic(credentials)[1], "CLIENT_SECRET")
                variables.name(credentials, "BASIC_CREDENTIALS")
        elif name.lower() in ("cookie", "set-cookie"):
            for part in value.split(";"):
                key, sep, item = part.strip().partition("=")
                if sep:
                    variables.name(item, "COOKIE_" + key)


def _basic(credentials: str) -> tuple[str, str] | None:
    """``(user, password)`` from the value of a Basic header (RFC 7617 §2)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def replays(run, flow, redact: Redactor) -> tuple[list[Replay], Variables]:
    """The back-channel requests of the run, and the variables they use."""
    variables = Variables(redact.originals)
    for _, _, record in _steps(run, flow):
        for exchange in _exchanges(record):
            _learn(variables, exchange.request)
            if exchange.response:
                _learn(variables, exchange.response)
    found = []
    for number, step, record in _steps(run, flow):
        if step.get("action") in FRONT_CHANNEL:
            continue
        title = f"Step {number}: {step['title']}"
        found += [_replay(e, title, variables) for e in _exchanges(record)]
    return found, variables


def _replay(exchange: Exchange, title: str, variables: Variables) -> Replay:
    message = exchange.request
    method = message.start_line.split(" ", 1)[0]
    headers, basic = [], None
    for name, value in message.headers:
        if name.lower() in CLIENT_HEADERS:
            continue
        credentials = value.partition(" ")[2]
        pair = _basic(credentials) if value.lower().startswith("basic ") else None
        if name.lower() == "authorization" and pair and pair[1] in variables.names:
            variables.plain.setdefault("CLIENT_ID", pair[0])
            basic = ([Var("CLIENT_ID")], variables.pieces(pair[1]))
        headers.append((name, variables.pieces(value)))
    form, body = None, variables.pieces(message.body)
    if message.media_type == FORM:
        form = [(k, variables.pieces(v)) for k, v in FormView.pairs(message.body)]
        body = []
    answer = exchange.response.start_line if exchange.response else "no response"
    return Replay(title, method, variables.pieces(_url(exchange)), headers, basic,
                  form, body, answer)


def _url(exchange: Exchange) -> str:
    """The absolute URL of the request: as captured, else from Host and target."""
    target = exchange.request.start_line.split(" ")[1]
    if exchange.url or target.startswith(("http://", "https://")):
        return exchange.url or target
    return f"http://{exchange.request.header('Host') or 'localhost'}{target}"

def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ")


def _used(replay: Replay, curl: bool) -> set[str]:
    """The variables a replay needs: curl sends Basic credentials with ``--user``."""
    found = list(replay.url) + list(replay.body)
    for _, value in replay.form or []:
        found += value
    basic = curl and replay.basic
    if basic:
        found += [*replay.basic[0], *replay.basic[1]]
    for name, value in replay.headers:
        if not (basic and name.lower() == "authorization"):
            found += value
    return {p.name for p in found if isinstance(p, Var)}
