"""What must never reach the disk: client secrets and real providers' tokens.

Each browser's provider choice (with its client secret) and the secrets of runs
against real providers live in memory only: never written to disk, never logged,
never put in a URL. A server restart, "Forget", or an idle hour loses them, and the
learner types them again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from dataclasses import field

IDLE_SECONDS = 3600


@dataclass
class Choice:
    """A browser's chosen provider profile and, for confidential flows, its secret."""

    provider: dict
    secret: str | None = field(default=None, repr=False)


class IdleStore:
    """Values by key, each forgotten after ``idle`` seconds without use."""

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self.idle = idle
        self._items: dict[str, tuple[object, float]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value) -> None:
        with self._lock:
            self._items[key] = (value, time.monotonic())

    def get(self, key: str | None):
        """The value, if not idle too long; reading it keeps it alive."""
        now = time.monotonic()
        with self._lock:
            for k in [k for k, (_, t) in self._items.items() if now - t > self.idle]:
                del self._items[k]
            if key not in self._items:
                return None
            value = self._items[key][0]
            self._items[key] = (value, now)
            return value

    def forget(self, key: str | None) -> None:
        with self._lock:
            self._items.pop(key or "", None)

    def __repr__(self) -> str:  # never show secrets in a traceback or a log
        return f"<IdleStore of {len(self._items)} items>"
