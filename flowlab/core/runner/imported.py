"""Runs brought back from a JSON export: kept whole or not at all, read only.

An imported run belongs to the browser that imported it, like any run it started.
It is never active: it cannot be continued (its secrets were masked in the export,
so no step could be sent again), and ``engine.pending`` offers no step. Its options
say where it came from (``origin``), which its page shows.
"""

from __future__ import annotations

import time

from flowlab.core.runner import store
from flowlab.core.runner.settings import DEFAULTS
from flowlab.core.runner.store import Run
from flowlab.core.secrets import SecretBox
from flowlab.core.storage.db import transaction

KEY = "imported"  # the run option that holds where it came from


def keep(owner: str, imported, box: SecretBox | None,
         ttl: float = DEFAULTS.ttl) -> Run:
    """Store ``imported`` (an ``exports.importer.Imported``) as a run of ``owner``,
    in one transaction: a failure leaves no run behind."""
    options = {**imported.options, KEY: {**imported.origin, "at": time.time()}}
    with transaction(store.db.get()):
        run = store.create(owner, imported.flow, imported.provider, options, ttl)
        run.steps, run.status = list(imported.steps), imported.status
        if not store.save(run, box):
            raise RuntimeError(f"Run {run.id} changed while it was imported.")
    return run


def origin(run: Run) -> dict | None:
    """Where an imported run came from (the original run's id, status, start and
    provider, and when it was imported); None for a run started here."""
    return run.options.get(KEY)
