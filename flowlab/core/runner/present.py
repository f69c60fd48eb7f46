"""What a step page shows: redacted messages, annotations, the sequence diagram."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

from flowlab.core.http import Message
from flowlab.core.http import parse_start_line
from flowlab.core.publicurl import Addresses
from flowlab.core.redact import Redactor
from flowlab.core.runner import moment
from flowlab.core.runner.records import StepRecord

ACTORS = (("browser", "Your browser"), ("app", "This app (client)"),
          ("as", "Authorization server"), ("api", "Web API"))
ACTORS_ORDER = {key: index for index, (key, _) in enumerate(ACTORS)}


@dataclass(frozen=True)
class Annotation:
    where: str
    name: str
    value: str
    term: dict | None


def annotate(message: Message, glossary: dict, redact: Redactor) -> list[Annotation]:
    """Every query parameter, body field and header with its glossary entry:
    the OAuth parameters first, the HTTP headers after them."""
    fields = sorted(message.fields(), key=lambda field: field[0] == "header")
    return [Annotation(where, name, redact(value), lookup(glossary, where, name))
            for where, name, value in fields]


def step_parts(record: StepRecord | None, received_in: str, glossary: dict,
               redact: Redactor, where: Addresses | None = None) -> dict:
    """What the page shows of one step, in page order: the authorization URL's
    parameters, what came back in the redirect, then each message as sent, with
    every glossary term explained at its first appearance only. A request sent to
    the private back-channel port (``where``) says so."""
    data = record.data if record else {}
    url = data.get("url")
    url_notes = (moment.notes_of(Message(f"GET {url} HTTP/1.1").fields(), glossary,
                                 redact) if url else [])
    received = moment.notes_of([(received_in, k, v)
                                for k, v in data.get("params", [])],
                               glossary, redact)
    views = []
    for exchange in record.exchanges if record else ():
        for kind in ("request", "response"):
            if exchange.get(kind):
                message = Message.from_json(exchange[kind])
                views.append(moment.view(kind, message, glossary, redact))
        if where is not None and exchange.get("request") and where.sent_privately(
                exchange):
            private = urlsplit(exchange["url"]).netloc
            views[-2 if exchange.get("response") else -1].backchannel = (
                private, where.public.rstrip("/"))
    # Page order: the moment (URL, redirect, messages with their folded headers),
    # then what the messages' parts mean, then the folded API fields.
    moment.explain_once([url_notes, received, *(v.headers for v in views),
                         *(v.notes for v in views), *(v.fields for v in views)])
    return {"views": views, "received": received, "url_notes": url_notes,
            "exchanges": views, "received_in": received_in}


_PARTS: dict[tuple, dict] = {}


def kept_step_parts(run, viewing: int, glossary: dict, redact: Redactor,
                    received_in: str = "query", where: Addresses | None = None) -> dict:
    """``step_parts`` of a recorded step, kept while the run is unchanged: keyed by
    the run's id and version, the step, a digest of the secrets it masks, and the
    addresses the view names (``where``).
    Masked pages only: revealed parts hold secrets and are never kept.
    ``received_in`` is where the flow's redirect answer arrives
    (``registry.received_in``); a run's flow never changes, so it is no key."""
    record = run.steps[viewing] if run.steps else None
    masked = getattr(redact, "originals", None)
    if record is None or redact.reveal or masked is None:
        return step_parts(record, received_in, glossary, redact, where)
    digest = hashlib.sha256("\0".join(masked).encode()).hexdigest()
    key = (run.id, run.version, viewing, digest, where)
    parts = _PARTS.get(key)
    if parts is None:
        if len(_PARTS) >= 512:  # a room's recent pages; older ones are rebuilt
            _PARTS.clear()
        parts = _PARTS[key] = step_parts(record, received_in, glossary, redact,
                                         where)
    return parts


def lookup(glossary: dict, where: str, name: str) -> dict | None:
    """The glossary term for a field: headers by any case, JSON by path then leaf."""
    key = moment.term_key(glossary, where, name)
    return glossary[key] if key else None


def diagram(flow, run, viewing: int) -> dict:
    """The flow as a sequence diagram (``templates/_sequence.html``): arrows of
    finished steps done, of step ``viewing`` current, of the rest upcoming. A failed
    step's expected answer is replaced by what came, or by "no answer"."""
    messages = []
    for index, step in enumerate(flow.steps):
        record = run.steps[index] if index < len(run.steps) else None
        state = ("current" if index == viewing else "done" if record else "upcoming")
        for source, target, label in step.get("arrows", []):
            arrow = {"from": source, "to": target, "text": label, "state": state,
                     "number": index + 1,
                     "reply": ACTORS_ORDER[target] < ACTORS_ORDER[source]}
            if record and record.status == "failed" and _promised(step, label):
                arrow.update(text=_answer(record), failed=True)
            messages.append(arrow)
    actors = [{"id": key, "name": label} for key, label in ACTORS]
    return {"actors": actors, "messages": messages}


_SEQUENCES: dict[str, Markup] = {}


def sequence_html(data: dict, label: str, render: Callable[..., Markup]) -> Markup:
    """The diagram rendered by ``render`` (the ``sequence`` macro), once per distinct
    diagram. It holds only the flow's labels, step states and status lines, never a
    value from a run, so runs of the same flow at the same point share it."""
    key = json.dumps([data, label], sort_keys=True)
    html = _SEQUENCES.get(key)
    if html is None:
        if len(_SEQUENCES) >= 1024:  # flows x options x states: far fewer in use
            _SEQUENCES.clear()
        html = _SEQUENCES[key] = Markup(render(data, label=label, prefix="run"))
    return html


def _promised(step: dict, label: str) -> bool:
    """Whether an arrow names the status the step expects (``200 access token``)."""
    return "expect" in step and label.startswith(str(step["expect"]))


def _answer(record: StepRecord) -> str:
    """The status line that came back (``400 Bad Request``), or "no answer"."""
    responses = [e["response"] for e in record.exchanges
                 if e.get("response")]
    if not responses:
        return "no answer"
    start = parse_start_line(responses[-1]["start_line"])
    return f"{start.status} {start.reason}".strip() if start.status else "an answer"
