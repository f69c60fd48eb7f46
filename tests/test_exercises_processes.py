"""Two lab processes share one database: an attempt started on one is graded from
traffic the other received, as with gunicorn's workers (the recorder keeps it in
the database, not in a process's memory)."""

from __future__ import annotations

import requests

from tests.test_processes import lab_env  # noqa: F401
from tests.test_processes import start_lab  # noqa: F401

ARTIST = "kQz7kFsGTSXgIamAi6Io3e"


def test_traffic_on_one_process_grades_an_attempt_of_another(start_lab):  # noqa: F811
    first, second = (start_lab("--workers", "1")[0] for _ in range(2))
    attempt = requests.post(first + "/api/exercises/client-credentials/attempts",
                            timeout=10).json()
    issuer = attempt["issuer"].replace(first, second)
    answer = requests.post(issuer + "/api/token", timeout=10,
                           auth=(attempt["client_id"], attempt["client_secret"]),
                           data={"grant_type": "client_credentials"})
    assert answer.status_code == 200
    bearer = {"Authorization": "Bearer " + answer.json()["access_token"]}
    assert requests.get(issuer + f"/v1/artists/{ARTIST}", headers=bearer,
                        timeout=10).status_code == 200
    report = requests.get(first + attempt["status"], timeout=10).json()
    assert report["solved"] is True, report
