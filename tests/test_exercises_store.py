"""What the exercises keep: the sandbox's traffic for an attempt's app holds no
secret in clear, only digests; the room's seam (``room_rows``) counts attendees and
the moment each attempt was first solved, graded as the traffic arrives."""

from __future__ import annotations

import base64
import time

import requests
from sqlalchemy import select

from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import exercise_traffic
from flowlab.exercises import room_rows
from flowlab.sandbox.public import digest

ARTIST = "kQz7kFsGTSXgIamAi6Io3e"


def _solve_client_credentials(base: str) -> tuple[dict, list[str]]:
    attempt = requests.post(base + "/api/exercises/client-credentials/attempts",
                            timeout=10).json()
    raw = f"{attempt['client_id']}:{attempt['client_secret']}".encode()
    answer = requests.post(attempt["token_endpoint"], timeout=10,
                           data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic "
                                    + base64.b64encode(raw).decode()})
    access = answer.json()["access_token"]
    requests.get(attempt["issuer"] + f"/v1/artists/{ARTIST}", timeout=10,
                 headers={"Authorization": "Bearer " + access})
    return attempt, [attempt["client_secret"], access]


def test_traffic_keeps_digests_not_secrets(live_server):
    attempt, secrets = _solve_client_credentials(live_server.url)
    with LAB.connection(live_server.app) as conn:
        rows = conn.execute(select(exercise_traffic.c.data).where(
            exercise_traffic.c.attempt == attempt["attempt"])).scalars().all()
    assert len(rows) == 2
    kept = "\n".join(rows)
    for secret in secrets:
        assert secret not in kept
    assert "Bearer" not in kept and "Basic" not in kept


def test_refresh_tokens_are_compared_by_digest(live_server):
    base = live_server.url
    attempt = requests.post(base + "/api/exercises/refresh-rotation/attempts",
                            timeout=10).json()
    form = {"grant_type": "refresh_token", "refresh_token": "made-up-value",
            "client_id": attempt["client_id"]}
    requests.post(attempt["token_endpoint"], data=form, timeout=10)
    with LAB.connection(live_server.app) as conn:
        data = conn.execute(select(exercise_traffic.c.data).where(
            exercise_traffic.c.attempt == attempt["attempt"])).scalar()
    assert "made-up-value" not in data
    assert digest("made-up-value") in data


def test_room_rows_count_attendees_and_first_solves(live_server):
    since = time.time()
    attempt, _ = _solve_client_credentials(live_server.url)
    with LAB.connection(live_server.app) as conn:
        rows = room_rows(since, conn)
    mine = [row for row in rows if row[1] == attempt["attempt"]]
    assert len(mine) == 1  # no cookie: the attempt is its own attendee
    exercise, _, started, solved = mine[0]
    assert exercise == "client-credentials"
    assert started >= since and solved is not None and solved >= started
