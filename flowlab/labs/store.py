"""Lab runs: what one browser did in one lab variant, and every message captured.

A run is kept in this process's memory for an hour (at most ``MAX_RUNS``), behind
three methods, so a database-backed store can replace it without touching the labs.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from dataclasses import field

from ..exchange import Exchange

KEEP_SECONDS = 3600
MAX_RUNS = 512


@dataclass(frozen=True)
class Entry:
    """One message of a lab: who sent it, on which channel, what went over the wire.

    ``key`` names its annotation in the lab's TOML; ``actor`` is "victim" (the
    learner's browser or the client acting for it) or "attacker".
    """

    key: str
    actor: str
    channel: str  # "front": through a browser; "back": server to server
    exchange: Exchange


@dataclass
class Run:
    """One attempt at a lab under one variant, owned by one browser."""

    id: str
    lab: str
    variant: str
    browser: str
    origin: str  # the lab as the browser reaches it, e.g. http://127.0.0.1:5000
    backchannel: str  # where servers call the sandbox (the private listener)
    redirect_base: str = ""  # where redirect URIs point, if not ``origin``
    created: float = field(default_factory=time.time)
    client: dict = field(default_factory=dict)  # the lab client's session for it
    attacker: dict = field(default_factory=dict)  # what the attacker holds
    trace: list[Entry] = field(default_factory=list)

    def record(self, key: str, actor: str, channel: str, exchange: Exchange) -> None:
        self.trace.append(Entry(key, actor, channel, exchange))

    def entries(self, key: str) -> list[Entry]:
        return [entry for entry in self.trace if entry.key == key]


class MemoryStore:
    """Runs by id, in memory, oldest dropped first."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def new(self, **fields) -> Run:
        run = Run(id=secrets.token_urlsafe(16), **fields)
        with self._lock:
            self._forget_old()
            self._runs[run.id] = run
        return run

    def get(self, run_id: str | None) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id or "")
        if run is None or run.created + KEEP_SECONDS < time.time():
            return None
        return run

    def find(self, lab: str, state: str | None) -> Run | None:
        """The run of ``lab`` whose client is waiting for ``state``."""
        with self._lock:
            found = [r for r in self._runs.values()
                     if r.lab == lab and state and r.client.get("state") == state]
        return found[0] if found else None

    def save(self, run: Run) -> None:
        """Keep a changed run (a no-op in memory; a database store writes here)."""
        with self._lock:
            self._runs[run.id] = run

    def _forget_old(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for run_id in [k for k, r in self._runs.items() if r.created < cutoff]:
            del self._runs[run_id]
        while len(self._runs) >= MAX_RUNS:
            del self._runs[next(iter(self._runs))]
