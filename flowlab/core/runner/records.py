"""A run's step record as a value: what one step of a flow did, on the wire.

``StepRecord`` is what ``Run.steps`` holds. The engine makes one from an action's
partial result (a dict: exchanges, data, error, outcome, notes...) and changes one
only with ``dataclasses.replace``. ``to_json`` and ``from_json`` are its one
serialization path, used by ``store`` alone; a record stored by an older version
still loads: missing keys take their defaults, keys this version does not know are
kept in ``extra`` and written back unchanged. A repeating step (RFC 8628 §3.5) is
recorded ``pending`` with its polling state in ``poll`` until its answer is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from functools import cache

TUPLES = ("exchanges", "notes")


@dataclass(frozen=True)
class StepRecord:
    """One step's result: its messages (``Exchange.to_dict`` form) and outcome."""

    id: str = ""
    status: str = "done"  # "done", "failed" or "pending" (a step still polling)
    exchanges: tuple[dict, ...] = ()
    data: dict = field(default_factory=dict)  # url, params, pkce, device, tries...
    error: str | None = None
    outcome: str | None = None  # picks the text the learner reads (flows.explained)
    notes: tuple = ()
    at: float = 0.0
    poll: dict | None = None  # a pending step's tries, interval and next try
    extra: dict = field(default_factory=dict)  # stored keys this version ignores

    @property
    def pending(self) -> bool:
        """Whether this is a repeating step's record that is not over yet."""
        return self.status == "pending" and self.poll is not None

    def to_json(self) -> dict:
        """The stored form: a JSON object of the fields, plus ``extra``'s keys."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "extra"}
        for name in TUPLES:
            data[name] = list(data[name])
        data["data"] = dict(self.data)
        if self.poll is None:
            del data["poll"]
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, data: dict) -> StepRecord:
        """A record from ``to_json``'s form or an older one's (see the module)."""
        known = _known(cls)
        values = {k: v for k, v in data.items() if k in known}
        for name in TUPLES:
            values[name] = tuple(values.get(name) or ())
        values["data"] = dict(values.get("data") or {})
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra)

    @classmethod
    def of(cls, step_id: str, status: str, result: dict, at: float,
           poll: dict | None = None) -> StepRecord:
        """The record of an action's partial result (keys it lacks: defaults)."""
        return cls(id=step_id, status=status,
                   exchanges=tuple(result.get("exchanges", ())),
                   data=dict(result.get("data", {})), error=result.get("error"),
                   outcome=result.get("outcome"),
                   notes=tuple(result.get("notes", ())), at=at, poll=poll)


@cache
def _known(cls) -> frozenset[str]:
    """The stored keys a record class reads (its fields but ``extra``), once."""
    return frozenset(f.name for f in fields(cls)) - {"extra"}
