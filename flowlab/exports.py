"""Transcripts of a run: Markdown, a curl script, a ``.http`` file, JSON and HAR 1.2.

Each exporter takes the run, its flow and the run's ``Redactor`` and returns text.
Everything comes from the captured exchanges, never reconstructed. Secrets and tokens
are masked unless the redactor reveals them, and it may do so only for the sandbox:
for any other provider the exporters mask regardless of what they were given.

The curl script and the ``.http`` file replay the back-channel requests. Every secret
in them is a variable set once at the top (``CLIENT_SECRET``, ``ACCESS_TOKEN``, …),
filled in when secrets are included and left empty, for the user, when masked.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from urllib.parse import quote_plus

from .exchange import Exchange
from .exchange import FormView
from .exchange import Message
from .exchange import query_pairs
from .runner.engine import FRONT_CHANNEL
from .runner.present import Redactor
from .runner.present import annotate
from .security import mask

CREATOR = {"name": "OAuth Flow Lab", "version": "0.1.0"}
# Headers a replay leaves to the client: it sets them itself, or they describe the
# captured connection and body rather than the request.
CLIENT_HEADERS = {"host", "content-length", "connection", "accept-encoding",
                  "user-agent"}
FORM = "application/x-www-form-urlencoded"


# --- Redaction ----------------------------------------------------------------------


def secure(run, redact: Redactor) -> Redactor:
    """The redactor for exports: it may reveal only on the sandbox."""
    return Redactor(set(redact.originals),
                    redact.reveal and run.provider.get("kind") == "sandbox")


def _iso(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds, as HAR wants it."""
    moment = datetime.fromtimestamp(timestamp or 0, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _steps(run, flow):
    """``(number, step definition, step record)`` for each step the run recorded."""
    return [(n, step, record) for n, (step, record)
            in enumerate(zip(flow.steps, run.steps, strict=False), 1)]


def _exchanges(record: dict) -> list[Exchange]:
    return [Exchange.from_dict(e) for e in record.get("exchanges", [])]


def _heading(run, flow) -> str:
    return f"{flow.name} on {run.provider.get('name', 'a provider')}, run {run.id}"


# --- Markdown handout ---------------------------------------------------------------


def markdown(run, flow, redact: Redactor, glossary: dict | None = None) -> str:
    """A handout: each step, what happened, its messages and their annotations."""
    redact = secure(run, redact)
    lines = [f"# {flow.name}: a run on OAuth Flow Lab", "",
             f"- Provider: {run.provider.get('name', '?')}",
             f"- Run: `{run.id}`, started {_iso(run.created)}, {run.status}",
             "- Secrets and tokens: " + ("included. Keep this file private."
                                         if redact.reveal else "masked (`abcd…wxyz`)."),
             "", flow.summary, ""]
    for number, step, record in _steps(run, flow):
        lines += _md_step(number, step, record, glossary or {}, redact)
    for number, step in enumerate(flow.steps[len(run.steps):], len(run.steps) + 1):
        lines += [f"## Step {number}: {step['title']}", "", "*Not run.*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_step(number, step, record, glossary, redact) -> list[str]:
    lines = [f"## Step {number}: {step['title']}", ""]
    error = _code(redact(record.get("error") or "failed"))
    if record["status"] == "failed":
        lines += [f"**Failed:** {error}", ""]
    lines += [step.get("explain", "").strip(), ""]
    if record.get("error") and record["status"] == "done":
        lines += [f"The provider answered as expected: {error}", ""]
    data = record.get("data", {})
    if data.get("url"):
        lines += ["### The authorization URL", "", _fence(redact(data["url"]), "text")]
    if data.get("pkce"):
        pkce = data["pkce"]
        lines += ["### PKCE", "", f"- code_verifier: {_code(redact(pkce['verifier']))}",
                  f"- SHA-256 (hex): {_code(pkce['sha256'])}",
                  f"- code_challenge: {_code(pkce['challenge'])}", ""]
    if step.get("action") in FRONT_CHANNEL and not record.get("exchanges"):
        lines += ["*This happened in your browser; the app saw none of it.*", ""]
    for exchange in _exchanges(record):
        lines += _md_exchange(exchange, glossary, redact)
    return lines


def _md_exchange(exchange: Exchange, glossary, redact) -> list[str]:
    lines = ["### Request", "", _fence(redact(exchange.request.text()), "http")]
    lines += _md_table(exchange.request, glossary, redact)
    if exchange.response is None:
        why = exchange.error or exchange.note or (
            "No response recorded: this is the request the app received from your "
            "browser.")
        return [*lines, f"*{_md_text(redact(why))}*", ""]
    lines += ["### Response", "", _fence(redact(exchange.response.text()), "http")]
    return lines + _md_table(exchange.response, glossary, redact)


def _md_table(message: Message, glossary, redact) -> list[str]:
    notes = annotate(message, glossary, redact)
    if not notes:
        return []
    rows = ["| Where | Name | Value | Meaning |", "| --- | --- | --- | --- |"]
    for note in notes:
        term = note.term or {}
        meaning = " ".join(filter(None, [term.get("meaning"), term.get("rfc")]))
        value = note.value if len(note.value) <= 80 else note.value[:77] + "…"
        rows.append(f"| {note.where} | {_code(note.name)} | {_code(value)} | "
                    f"{_md_text(meaning)} |")
    return [*rows, ""]


def _code(text: str) -> str:
    """A Markdown code span that survives backticks and table pipes."""
    text = text.replace("\n", " ")
    ticks = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}".replace("|", "\\|")


def _md_text(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def _fence(text: str, info: str) -> str:
    """A fenced block longer than any backtick run inside ``text``."""
    longest = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}\n"


# --- Replays: the back-channel requests with their secrets as variables -------------


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


# --- curl script ----------------------------------------------------------------------


def curl_script(run, flow, redact: Redactor) -> str:
    """A bash script that replays the back-channel requests with curl."""
    found, variables = replays(run, flow, redact)
    redact = secure(run, redact)
    lines = ["#!/usr/bin/env bash", f"# OAuth Flow Lab: {_heading(run, flow)}.",
             "# Replays the back-channel requests of the run with curl, as they were",
             "# captured, minus the headers curl sets itself (Host, Content-Length,",
             "# Connection, Accept-Encoding, User-Agent).",
             "# Usage: bash this-file.sh [N ...]   runs every request, or request N.",
             "# An authorization code works once, and a code verifier belongs to its",
             "# code: run the flow again for fresh ones to replay a code exchange.",
             "set -euo pipefail", ""]
    used = set().union(*(_used(r, curl=True) for r in found))
    lines += _sh_variables(variables.values(used), redact.reveal)
    lines += ["need() {", "  local name", '  for name in "$@"; do',
              '    if [ -z "${!name:-}" ]; then',
              '      echo "Fill in $name at the top of this script." >&2',
              "      exit 1", "    fi", "  done", "}", ""]
    for index, replay in enumerate(found, 1):
        lines += _sh_function(index, replay)
    lines += [f'if [ "$#" -eq 0 ]; then set -- {_sh_all(len(found))}; fi',
              'for n in "$@"; do', '  "request_$n"', "done"]
    return redact("\n".join(lines) + "\n")


def _sh_variables(values: list, reveal: bool) -> list[str]:
    lines = []
    for name, value, secret in values:
        if reveal or not secret:
            lines.append(f"{name}={shlex.quote(value)}")
        else:
            shown = _one_line(mask(value))
            lines.append(f"{name}=''  # masked in this export ({shown}): fill in")
    return [*lines, ""] if lines else []


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ")


def _sh_function(index: int, replay: Replay) -> list[str]:
    args = ["--silent", "--show-error", "--include"]
    has_data = bool(replay.form or replay.body)
    if replay.method != ("POST" if has_data else "GET"):
        args.append(f"--request {shlex.quote(replay.method)}")
    if replay.basic:
        user, password = replay.basic
        args.append("--user " + _sh_word([*user, ":", *password]))
    for name, value in replay.headers:
        if not (replay.basic and name.lower() == "authorization"):
            args.append("--header " + _sh_word([f"{name}: ", *value]))
    if replay.form is not None:
        args += ["--data-urlencode " + _sh_word([f"{k}=", *v]) for k, v in replay.form]
    elif replay.body:
        args.append("--data-binary " + _sh_word(replay.body))
    args.append(_sh_word(replay.url))
    used = sorted(_used(replay, curl=True))
    body = " \\\n    ".join(["curl", *args])
    return [f"request_{index}() {{", f"  # {_one_line(replay.title)}",
            f"  # Captured answer: {_one_line(replay.answer)}",
            *([f"  need {' '.join(used)}"] if used else []),
            f"  echo '### Request {index}'", f"  {body}", "  echo", "}", ""]


def _sh_all(count: int) -> str:
    return " ".join(str(n) for n in range(1, count + 1))


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


def _sh_word(pieces: list) -> str:
    """One shell word: single-quoted if literal, else double-quoted with ${VARS}."""
    if not any(isinstance(p, Var) for p in pieces):
        return shlex.quote("".join(pieces))
    out = []
    for piece in pieces:
        if isinstance(piece, Var):
            out.append("${" + piece.name + "}")
        else:
            out.append(re.sub(r'([\\"$`])', r"\\\1", piece))
    return '"' + "".join(out) + '"'


# --- .http file (VS Code REST Client, JetBrains HTTP Client) -------------------------


def http_file(run, flow, redact: Redactor) -> str:
    """The back-channel requests as a ``.http`` file, ``###`` between requests."""
    found, variables = replays(run, flow, redact)
    redact = secure(run, redact)
    lines = [f"# OAuth Flow Lab: {_heading(run, flow)}.",
             "# The back-channel requests of the run, for the VS Code REST Client and",
             "# the JetBrains HTTP Client. Fill in any empty variable first.", ""]
    used = set().union(*(_used(r, curl=False) for r in found))
    for name, value, secret in variables.values(used):
        if secret and not redact.reveal:
            lines.append(f"# {name.lower()}: masked in this export "
                         f"({_one_line(mask(value))}), fill in")
            value = ""
        lines.append(f"@{name.lower()} = {_one_line(value)}".rstrip())
    lines.append("")
    for replay in found:
        lines += _http_request(replay)
    return redact("\n".join(lines).rstrip("\n") + "\n")


def _http_request(replay: Replay) -> list[str]:
    lines = [f"### {_one_line(replay.title)}",
             f"# Captured answer: {_one_line(replay.answer)}",
             f"{replay.method} {_http_text(replay.url)} HTTP/1.1"]
    lines += [f"{name}: {_http_text(value)}" for name, value in replay.headers]
    if replay.form is not None:
        body = "&".join(f"{quote_plus(k)}={_http_text(v, quote_plus)}"
                        for k, v in replay.form)
    else:
        body = _http_text(replay.body)
    return [*lines, "", body, ""] if body else [*lines, ""]


def _http_text(pieces: list, encode=None) -> str:
    return "".join("{{" + p.name.lower() + "}}" if isinstance(p, Var)
                   else (encode(p) if encode else p) for p in pieces)


# --- JSON ----------------------------------------------------------------------------


def to_json(run, flow, redact: Redactor) -> str:
    """The run as JSON: flow, provider, and each step with its exchanges."""
    redact = secure(run, redact)
    provider = {k: v for k, v in run.provider.items() if "secret" not in k.lower()}
    document = {
        "format": "flowlab-run", "version": 1,
        "secrets": "included" if redact.reveal else "masked",
        "run": {"id": run.id, "status": run.status, "created": _iso(run.created)},
        "flow": {"id": flow.id, "name": flow.name, "client": flow.client},
        "provider": provider,
        "steps": [{"number": n, "id": record["id"], "title": step["title"],
                   "status": record["status"], "error": record.get("error"),
                   "at": _iso(record.get("at", 0)), "data": record.get("data", {}),
                   "exchanges": [e.to_dict() for e in _exchanges(record)]}
                  for n, step, record in _steps(run, flow)],
    }
    return json.dumps(redact.deep(document), indent=2, ensure_ascii=False) + "\n"


# --- HAR 1.2 -------------------------------------------------------------------------


def har(run, flow, redact: Redactor) -> str:
    """An HTTP Archive 1.2 of every captured exchange, one page per step.

    The callback request has no response in the transcript: the browser sent it to
    the app, which captured only the request. Its entry gets ``status`` 0 with empty
    headers, as browsers write requests that got no response, and a comment saying
    why; Chromium's and Firefox's importers accept that.
    """
    redact = secure(run, redact)
    pages, entries = [], []
    for number, step, record in _steps(run, flow):
        exchanges = _exchanges(record)
        if not exchanges:
            continue
        page = f"step_{number}"
        title = f"Step {number}: {step['title']}"
        pages.append({"startedDateTime": _iso(exchanges[0].started or record["at"]),
                      "id": page, "title": title,
                      "pageTimings": {"onContentLoad": -1, "onLoad": -1}})
        entries += [_har_entry(e, page, title) for e in exchanges]
    log = {"version": "1.2", "creator": CREATOR, "pages": pages, "entries": entries,
           "comment": f"OAuth Flow Lab: {_heading(run, flow)}. Secrets and tokens "
                      + ("included." if redact.reveal else "masked.")}
    return json.dumps({"log": redact.deep(log)}, indent=2, ensure_ascii=False) + "\n"


def _har_entry(exchange: Exchange, page: str, title: str) -> dict:
    elapsed = max(exchange.elapsed_ms, 0) if exchange.response else 0
    response = (_har_response(exchange.response) if exchange.response
                else _har_no_response(exchange))
    return {"pageref": page, "startedDateTime": _iso(exchange.started),
            "time": elapsed, "request": _har_request(exchange),
            "response": response, "cache": {},
            "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                        "send": 0, "wait": elapsed, "receive": 0},
            "comment": title}


def _har_request(exchange: Exchange) -> dict:
    message = exchange.request
    method, _, rest = message.start_line.partition(" ")
    version = rest.rpartition(" ")[2] if " " in rest else "HTTP/1.1"
    request = {"method": method, "url": _url(exchange), "httpVersion": version,
               "cookies": _cookies(message.header("Cookie") or ""),
               "headers": _pairs(message.headers),
               "queryString": _pairs(query_pairs(message.start_line)),
               "headersSize": _head_size(message),
               "bodySize": len(message.body.encode())}
    if message.body:
        params = FormView.pairs(message.body) if message.media_type == FORM else []
        request["postData"] = {"mimeType": message.header("Content-Type") or "",
                               "params": _pairs(params), "text": message.body}
    return request


def _har_response(message: Message) -> dict:
    version, status, reason = (message.start_line.split(" ", 2) + ["", ""])[:3]
    encoded = message.header("Content-Encoding")
    cookies = [c for k, v in message.headers if k.lower() == "set-cookie"
               for c in _cookies(v.split(";", 1)[0])]
    return {"status": int(status) if status.isdigit() else 0, "statusText": reason,
            "httpVersion": version, "cookies": cookies,
            "headers": _pairs(message.headers),
            "content": {"size": len(message.body.encode()),
                        "mimeType": message.header("Content-Type") or "x-unknown",
                        "text": message.body},
            "redirectURL": message.header("Location") or "",
            "headersSize": _head_size(message),
            "bodySize": -1 if encoded else len(message.body.encode())}


def _har_no_response(exchange: Exchange) -> dict:
    why = exchange.error or exchange.note or (
        "No response recorded: the browser sent this request to the app, which "
        "captured the request only.")
    return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [],
            "headers": [], "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "", "headersSize": -1, "bodySize": -1, "comment": why}


def _pairs(pairs) -> list[dict]:
    return [{"name": k, "value": v} for k, v in pairs]


def _cookies(header: str) -> list[dict]:
    found = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            found.append({"name": name, "value": value})
    return found


def _head_size(message: Message) -> int:
    """Bytes from the start line to the blank line after the headers."""
    head = message.start_line + "\r\n" + "".join(f"{k}: {v}\r\n"
                                                  for k, v in message.headers)
    return len((head + "\r\n").encode())


# The formats the view offers, by file extension.
EXPORTERS = {"md": markdown, "sh": curl_script, "http": http_file, "json": to_json,
             "har": har}
