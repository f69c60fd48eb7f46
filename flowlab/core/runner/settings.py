"""The runner's settings, read once from the app's config by ``create_app``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SAVE_MARGIN = 5  # seconds a step's outcome may take to reach the database


@dataclass(frozen=True)
class RunSettings:
    """How long runs live (``RUN_TTL``) and how long each read from a provider and
    each whole answer may take (``HTTP_TIMEOUT``, ``HTTP_DEADLINE``), in seconds."""

    ttl: float = 86400
    timeout: float = 5
    deadline: float = 20

    @classmethod
    def from_config(cls, config: Mapping) -> RunSettings:
        return cls(config["RUN_TTL"], config["HTTP_TIMEOUT"], config["HTTP_DEADLINE"])

    @property
    def stale_after(self) -> float:
        """How long a claim may hold a step: the outbound deadline of its calls plus
        a little for saving the outcome (``outbound.limits``)."""
        return self.deadline + SAVE_MARGIN


DEFAULTS = RunSettings()
