"""Step records as values: one stored form, and records stored before it."""

from __future__ import annotations

import json
import time
from dataclasses import FrozenInstanceError
from dataclasses import replace

import pytest
from sqlalchemy import insert
from sqlalchemy import select

from flowlab.core.runner import poll
from flowlab.core.runner import store
from flowlab.core.runner.records import StepRecord
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs
from tests.test_profiles import OLD as PROFILE

URL = "http://127.0.0.1/sandbox/authorize?response_type=code&client_id=c&state=s1"
# Two steps as the runs table held them when records were dicts: a finished one with
# a key this version does not know, and a polling step still pending (RFC 8628 §3.5).
OLD = [
    {"id": "authorization-url", "status": "done", "exchanges": [],
     "data": {"url": URL}, "error": None, "outcome": None, "notes": [],
     "at": 1795811951.0, "future_key": {"kept": True}},
    {"id": "poll", "status": "pending", "exchanges": [
        {"request": {"start_line": "POST /token HTTP/1.1", "headers": [], "body": ""},
         "response": None}],
     "data": {}, "error": None, "outcome": "pending", "notes": [],
     "at": 1795811952.0, "poll": {"tries": 2, "interval": 5.0, "first": 1.0,
                                  "next_at": 11.0}},
]


def test_an_old_stored_record_loads_and_keeps_what_it_does_not_know():
    done, pending = (StepRecord.from_json(record) for record in OLD)
    assert done.data["url"] == URL and done.status == "done" and not done.pending
    assert done.extra == {"future_key": {"kept": True}}
    assert done.to_json()["future_key"] == {"kept": True}
    assert pending.pending and poll.tries([done, pending]) == 2
    assert poll.index([done, pending]) == 1  # the polling step is not over
    for record in (done, pending):
        stored = json.loads(json.dumps(record.to_json()))
        assert StepRecord.from_json(stored) == record
    assert "poll" not in done.to_json()  # as finished records were always stored


def test_missing_keys_take_their_defaults():
    record = StepRecord.from_json({"id": "token"})
    assert (record.status, record.exchanges, record.notes, record.data) == (
        "done", (), (), {})


def test_a_record_is_frozen_and_changes_by_replace():
    record = StepRecord.from_json(OLD[0])
    with pytest.raises(FrozenInstanceError):
        record.status = "failed"  # type: ignore[misc]
    failed = replace(record, status="failed", error="invalid_client")
    assert record.status == "done" and failed.to_json()["error"] == "invalid_client"


def test_a_run_stored_before_loads_shows_and_saves_its_records(app, client):
    """Runs live a day: one written by the previous version still loads, its step
    page shows the recorded URL, and saving it writes the unknown key back."""
    with client.session_transaction(base_url="http://127.0.0.1") as session:
        session["browser"] = "browser-1"
    with app.app_context():
        now = time.time()
        LAB.get().execute(insert(runs).values(
            id="old-run", owner="browser-1", flow="authorization-code",
            provider=json.dumps(PROFILE),
            options="{}", secrets="{}", steps=json.dumps(OLD[:1]),
            status="active", created=now, expires=now + 60))
    page = client.get("/runs/old-run?step=1", base_url="http://127.0.0.1")
    assert page.status_code == 200
    assert "response_type=code&amp;client_id=c" in page.get_data(as_text=True)
    with app.app_context():
        run = store.load("old-run", "browser-1")
        assert run.steps == [StepRecord.from_json(OLD[0])]
        assert store.save(run)
        (written,) = json.loads(LAB.get().execute(
            select(runs.c.steps).where(runs.c.id == "old-run")).scalar_one())
    assert written == OLD[0]
