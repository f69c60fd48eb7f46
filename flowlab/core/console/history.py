"""The console's calls of one run, kept for the browser that owns the run.

Each call is stored sealed for that browser (``flowlab.core.secrets``: AES-GCM under
a key only its cookie holds), as real providers' run secrets are, though the token
is already masked in it: the answer may still hold personal data. Calls go with
their run's lifetime, and a run keeps its latest ``KEEP`` calls.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select

from flowlab.core.secrets import SecretBox
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import console_calls

KEEP = 50


def _aad(call_id: str, run: str, browser: str) -> str:
    return f"console {call_id} {run} {browser}"


def keep(run: str, box: SecretBox, record: dict, ttl: float) -> str:
    """Store one call of ``run``, sealed in ``box``; its id."""
    now = time.time()
    call_id = secrets.token_urlsafe(9)
    conn = LAB.get()
    conn.execute(delete(console_calls).where(console_calls.c.expires < now))
    conn.execute(insert(console_calls).values(
        id=call_id, run=run, browser=box.browser, created=now, expires=now + ttl,
        sealed=box.seal(record, _aad(call_id, run, box.browser))))
    old = select(console_calls.c.id).where(console_calls.c.run == run).order_by(
        console_calls.c.created.desc()).offset(KEEP)
    conn.execute(delete(console_calls).where(console_calls.c.id.in_(old)))
    return call_id


def calls(run: str, box: SecretBox | None) -> list[dict]:
    """This browser's calls of ``run``, newest first, each with its ``id``; a call
    its key no longer opens is left out."""
    if box is None:
        return []
    rows = LAB.get().execute(
        select(console_calls).where(console_calls.c.run == run,
                                    console_calls.c.browser == box.browser,
                                    console_calls.c.expires >= time.time())
        .order_by(console_calls.c.created.desc())).mappings()
    found = []
    for row in rows:
        record = box.unseal(row["sealed"], _aad(row["id"], run, box.browser))
        if record is not None:
            found.append({**record, "id": row["id"]})
    return found
