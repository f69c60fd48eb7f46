"""The moment a step teaches: its messages with the protocol first, every field
explained once per page, generic HTTP headers folded (nothing dropped)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property

from markupsafe import Markup

from flowlab.core.highlight import highlight
from flowlab.core.http import Message

# Headers that carry the protocol: credentials (RFC 6749 §2.3.1, RFC 6750 §2.1),
# refusals (RFC 6750 §3), the redirect (§4.1.2), the body's format and a
# browser app's origin. Every other header folds into one group, still shown.
PROTOCOL_HEADERS = frozenset({"authorization", "www-authenticate", "location",
                              "content-type", "origin", "retry-after"})
# A response that hands out tokens must not be cached (RFC 6749 §5.1): there these
# headers carry the protocol too.
TOKEN_RESPONSE_HEADERS = frozenset({"cache-control", "pragma"})
# A body with more fields than this shows those no RFC defines (API data) folded.
OPEN_FIELDS = 8


@dataclass
class Note:
    """One part of a message and its glossary term; ``first`` is False when an
    earlier part of the page already explains the term (its anchor links there)."""

    where: str
    name: str
    value: str
    term: dict | None
    key: str | None
    more: int = 0
    first: bool = True

    @property
    def anchor(self) -> str:
        return "term-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.key or self.name)


@dataclass
class View:
    """A message as the page shows it: the protocol first, the rest folded."""

    kind: str  # "request" or "response"
    head: str  # start line, protocol headers, then the body (JSON indented)
    text: str  # the message exactly as it went over the wire (redacted)
    notes: list[Note] = field(default_factory=list)  # the protocol's parts
    headers: list[Note] = field(default_factory=list)  # generic headers, folded
    fields: list[Note] = field(default_factory=list)  # API data fields, folded
    # A request the lab's server sent to the sandbox's private back-channel listener
    # (flowlab/serving.py): that listener's host:port, and the public address.
    backchannel: tuple[str, str] | None = None

    # Highlighted once per view: a kept view (``present.kept_step_parts``) is shown
    # on every reload of its page.
    @cached_property
    def head_html(self) -> Markup:
        return highlight(self.head, "http")

    @cached_property
    def text_html(self) -> Markup:
        return highlight(self.text, "http")


_WIRE: dict[int, tuple[dict, set, dict]] = {}


def _wire_terms(glossary: dict) -> tuple[set, dict]:
    """The glossary's wire terms, and its header names by lower case, built once
    per glossary (content is loaded once, so this scan ran on every field before)."""
    entry = _WIRE.get(id(glossary))
    if entry is None or entry[0] is not glossary:
        wire = {k for k, t in glossary.items() if t.get("kind") != "concept"}
        headers: dict[str, str] = {}
        for key in glossary:
            if key in wire:
                headers.setdefault(key.lower(), key)
        entry = _WIRE[id(glossary)] = (glossary, wire, headers)
    return entry[1], entry[2]


def term_key(glossary: dict, where: str, name: str) -> str | None:
    """The glossary key for a field: headers by any case, JSON by path then leaf.
    Entries of kind "concept" explain ideas, not wire parts, and never match."""
    wire, headers = _wire_terms(glossary)
    if where == "header":
        return headers.get(name.lower())
    candidates = [name]
    if where == "json":  # the longest known suffix: error.status, then status
        parts = name.replace("[]", "").split(".")
        candidates += [".".join(parts[i:]) for i in range(len(parts))]
    return next((c for c in candidates if c in wire), None)


def notes_of(fields, glossary: dict, redact) -> list[Note]:
    """One note per distinct ``(where, name)``; repeats (list items) count as more."""
    found: dict[tuple[str, str], Note] = {}
    for where, name, value in fields:
        if (where, name) in found:
            found[where, name].more += 1
            continue
        key = term_key(glossary, where, name)
        found[where, name] = Note(where, name, redact(value),
                                  glossary[key] if key else None, key)
    return list(found.values())


def view(kind: str, message: Message, glossary: dict, redact) -> View:
    """Split a message into what carries the protocol and what folds."""
    notes = notes_of(message.fields(), glossary, redact)
    protocol = PROTOCOL_HEADERS
    if any(n.where == "json" and n.name == "access_token" for n in notes):
        protocol = PROTOCOL_HEADERS | TOKEN_RESPONSE_HEADERS
    shown = [(k, v) for k, v in message.headers if k.lower() in protocol]
    head = Message(message.start_line, shown, message.pretty_body()).as_http()
    result = View(kind, redact(head.rstrip("\n")), redact(message.as_http()))
    body = [n for n in notes if n.where not in ("query", "header")]
    many = len(body) > OPEN_FIELDS
    for note in notes:
        if note.where == "header" and note.name.lower() not in protocol:
            result.headers.append(note)
        elif many and note.where == "json" and "RFC" not in _rfc(note):
            result.fields.append(note)
        else:
            result.notes.append(note)
    return result


def _rfc(note: Note) -> str:
    return (note.term or {}).get("rfc", "")


def explain_once(groups) -> None:
    """Mark every note after the first of its term, in page order, as a mention."""
    seen: set[str] = set()
    for notes in groups:
        for note in notes:
            if note.key:
                note.first = note.key not in seen
                seen.add(note.key)
