"""The same moment of two runs: steps aligned by what they do, messages diffed.

A step's moment is named by its action (``content/compare.toml``) or by the step's
own ``moment``. Two messages are compared part by part: the start line, each header
by name (names are case-insensitive, RFC 9110 §5.1), each query, form and JSON
field by name. Values are compared as captured; the page redacts what it shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flowlab.core.http import Message
from flowlab.core.runner.moment import OPEN_FIELDS
from flowlab.core.runner.moment import PROTOCOL_HEADERS
from flowlab.core.runner.records import StepRecord

# The order rows are shown in: what carries the protocol first, headers last.
ORDER = ("start", "received", "query", "form", "json", "header")
KINDS = ("url", "received", "request", "response")


@dataclass(frozen=True)
class Part:
    """One thing a step shows: the authorization URL, the parameters that came
    back in the redirect, or a captured request or response."""

    kind: str
    message: Message | None
    fields: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Stop:
    """A recorded step with something to compare; ``nth`` counts the earlier
    steps of the same run that show the same moment."""

    number: int
    title: str
    moment: str
    nth: int
    status: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Row:
    """One part by name, its value on each side (None: that side has no such part)."""

    where: str
    name: str
    left: str | None
    right: str | None

    @property
    def state(self) -> str:
        if self.right is None:
            return "only-left"
        if self.left is None:
            return "only-right"
        return "same" if self.left == self.right else "changed"


@dataclass(frozen=True)
class Section:
    """Two parts of one kind (either may be missing), their rows split into
    those shown open and those folded (generic headers, an API's data)."""

    kind: str
    left: Part | None
    right: Part | None
    rows: tuple[Row, ...]
    folded: tuple[Row, ...]


def moment_of(step: dict, by_action: dict[str, str]) -> str:
    """The moment a flow step shows: its own ``moment``, else its action's."""
    action = step.get("action", "")
    return step.get("moment") or by_action.get(action, action)


def by_action(config: dict) -> dict[str, str]:
    """``action -> moment id`` from ``content/compare.toml``."""
    return {a: m["id"] for m in config.get("moment", []) for a in m["actions"]}


def stops(flow, records: list[StepRecord], actions: dict[str, str]) -> list[Stop]:
    """The run's recorded steps that carry a message, in order."""
    steps = {step["id"]: step for step in flow.steps}
    found: list[Stop] = []
    seen: Counter = Counter()
    for number, record in enumerate(records, 1):
        parts = parts_of(record)
        if not parts:
            continue
        step = steps.get(record.id) or flow.step(number - 1) or {}
        key = moment_of(step, actions) or record.id
        found.append(Stop(number, step.get("title", record.id), key, seen[key],
                          record.status, tuple(parts)))
        seen[key] += 1
    return found


def counterpart(stop: Stop, others: list[Stop]) -> Stop | None:
    """The other run's step of the same moment: the same occurrence, else its
    last one (a flow may repeat a moment fewer times)."""
    same = [other for other in others if other.moment == stop.moment]
    return same[min(stop.nth, len(same) - 1)] if same else None


def parts_of(record: StepRecord) -> list[Part]:
    """What a step record shows, as comparable parts."""
    data, parts = record.data, []
    if data.get("url"):
        message = Message(f"GET {data['url']} HTTP/1.1")
        parts.append(Part("url", message, fields_of(message)))
    if data.get("params"):
        pairs = tuple(("received", name, value) for name, value in data["params"])
        parts.append(Part("received", None, pairs))
    for exchange in record.exchanges:
        for kind in ("request", "response"):
            if exchange.get(kind):
                message = Message.from_json(exchange[kind])
                parts.append(Part(kind, message, fields_of(message)))
    return parts


def fields_of(message: Message) -> tuple[tuple[str, str, str], ...]:
    """The start line (its query compared field by field) and every field."""
    start = message.start
    line = message.start_line
    if "?" in start.target:
        target = urlunsplit(urlsplit(start.target)._replace(query=""))
        line = f"{start.method} {target} {start.version}"
    return (("start", "start line", line), *message.fields())


def diff(left: tuple, right: tuple) -> list[Row]:
    """Rows for every part either side has, same or not, protocol parts first."""
    a, b = _grouped(left), _grouped(right)
    keys = [*a, *(key for key in b if key not in a)]
    rows = [Row(key[0], (a.get(key) or b[key])[0], _value(a, key), _value(b, key))
            for key in keys]
    return sorted(rows, key=lambda row: ORDER.index(row.where)
                  if row.where in ORDER else len(ORDER))


def sections(left: Stop, right: Stop) -> list[Section]:
    """The two steps' parts paired by kind and order, each pair diffed."""
    found = []
    for kind in KINDS:
        mine = [p for p in left.parts if p.kind == kind]
        theirs = [p for p in right.parts if p.kind == kind]
        for index in range(max(len(mine), len(theirs))):
            a = mine[index] if index < len(mine) else None
            b = theirs[index] if index < len(theirs) else None
            rows = diff(a.fields if a else (), b.fields if b else ())
            many = sum(row.where == "json" for row in rows) > OPEN_FIELDS
            folds = [_generic(row) or (many and row.where == "json") for row in rows]
            found.append(Section(
                kind, a, b, tuple(r for r, f in zip(rows, folds, strict=True) if not f),
                tuple(r for r, f in zip(rows, folds, strict=True) if f)))
    return found


def _generic(row: Row) -> bool:
    return row.where == "header" and row.name.lower() not in PROTOCOL_HEADERS


def _grouped(fields) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """Fields by ``(where, name)``; repeated names (list items) keep every value."""
    groups: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for where, name, value in fields:
        key = (where, name.lower() if where == "header" else name)
        groups.setdefault(key, (name, []))[1].append(value)
    return groups


def _value(groups: dict, key: tuple[str, str]) -> str | None:
    return "\n".join(groups[key][1]) if key in groups else None
