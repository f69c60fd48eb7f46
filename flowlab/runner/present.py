"""What a step page shows: redacted messages, annotations, the sequence diagram."""

from __future__ import annotations

from dataclasses import dataclass

from ..exchange import Message
from ..security import mask

SECRET_FIELDS = {"access_token", "refresh_token", "code", "code_verifier",
                 "client_secret", "token"}
SECRET_HEADERS = {"authorization", "cookie", "set-cookie"}
ACTORS = (("browser", "Your browser"), ("app", "This app (client)"),
          ("as", "Authorization server"), ("api", "Web API"))


class Redactor:
    """Masks every secret of a run wherever it appears, unless revealing."""

    def __init__(self, secrets: set[str], reveal: bool = False) -> None:
        self.secrets = sorted((s for s in secrets if len(s) >= 8), key=len,
                              reverse=True)
        self.reveal = reveal

    def __call__(self, text: str) -> str:
        if self.reveal or not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        return text

    @classmethod
    def for_run(cls, run, extra: set[str], reveal: bool) -> Redactor:
        """Collect secrets from the run's store and every captured message."""
        found = set(extra)
        for value in run.secrets.values():
            found.update(_strings(value))
        for record in run.steps:
            for exchange in record.get("exchanges", []):
                for message in (exchange["request"], exchange.get("response")):
                    if message:
                        found.update(_message_secrets(message))
        return cls(found, reveal)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k in SECRET_FIELDS for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _message_secrets(data: dict) -> list[str]:
    message = Message(data["start_line"], data["headers"], data["body"])
    found = []
    for where, name, value in message.fields():
        if where == "header" and name.lower() in SECRET_HEADERS:
            found.append(value.split(" ", 1)[-1])
            found += [c.split("=", 1)[-1] for c in value.split(";") if "=" in c]
        elif name.split(".")[-1] in SECRET_FIELDS:
            found.append(value)
    return found


@dataclass(frozen=True)
class Annotation:
    where: str
    name: str
    value: str
    term: dict | None


def annotate(message: Message, glossary: dict, redact: Redactor) -> list[Annotation]:
    """Every query parameter, header and body field with its glossary entry."""
    return [Annotation(where, name, redact(value), lookup(glossary, where, name))
            for where, name, value in message.fields()]


def lookup(glossary: dict, where: str, name: str) -> dict | None:
    """The glossary term for a field: headers by any case, JSON by path then leaf."""
    if where == "header":
        lowered = name.lower()
        return next((t for k, t in glossary.items() if k.lower() == lowered), None)
    candidates = [name]
    if where == "json":  # the longest known suffix: error.status, then status
        parts = name.replace("[]", "").split(".")
        candidates += [".".join(parts[i:]) for i in range(len(parts))]
    return next((glossary[c] for c in candidates if c in glossary), None)


def diagram(flow, run, viewing: int) -> dict:
    """Geometry of the sequence diagram; arrows of step ``viewing`` are lit."""
    xs = {key: 90 + i * 200 for i, (key, _) in enumerate(ACTORS)}
    arrows, y = [], 70
    for index, step in enumerate(flow.steps):
        state = ("current" if index == viewing else
                 "done" if index < len(run.steps) else "upcoming")
        for source, target, label in step.get("arrows", []):
            arrows.append({"x1": xs[source], "x2": xs[target], "y": y, "label": label,
                           "state": state, "step": index + 1})
            y += 34
    actors = [{"key": k, "label": label, "x": xs[k]} for k, label in ACTORS]
    return {"actors": actors, "arrows": arrows, "height": y + 10,
            "width": xs["api"] + 90}
