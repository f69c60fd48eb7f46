"""Helpers of the tests of issue 20's part 5: a finished run, its real secrets, an
upload to the import form, and the lab's runs as the database holds them."""

from __future__ import annotations

import re
from urllib.parse import quote
from urllib.parse import quote_plus

import requests
from sqlalchemy import func
from sqlalchemy import select

from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs
from tests.flowrunner import FlowRunner
from tests.test_exports import _secrets_of


def finished(server, flow_id: str = "authorization-code-pkce") -> FlowRunner:
    """A run of ``flow_id`` on the sandbox, run to its end in a browser of its own."""
    runner = FlowRunner(server).start(flow_id)
    runner.run_all()
    return runner


def real_secrets(runner: FlowRunner) -> set[str]:
    """Every secret and token of the run, from its export with secrets included
    (and the PKCE verifier the app kept)."""
    full = runner.session.get(runner.run_url + "/export.json?secrets=1", timeout=10)
    document = full.json()
    found = _secrets_of(document)
    for step in document["steps"]:
        verifier = (step["data"].get("pkce") or {}).get("verifier")
        if verifier:
            found.add(verifier)
    return found


def leaked(text: str, secrets: set[str]) -> list[str]:
    """The secrets found in ``text``, as they are or percent-encoded."""
    forms = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s))}
    return sorted(f for f in forms if f in text)


def csrf_of(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def upload(session: requests.Session, server, content: bytes,
           csrf: str | None = None) -> requests.Response:
    """Send ``content`` through the import form as a file, as a browser does."""
    form = session.get(server("/runs/import"), timeout=10)
    token = csrf_of(form) if csrf is None else csrf
    return session.post(server("/runs/import"), data={"csrf_token": token},
                        files={"file": ("run.json", content, "application/json")},
                        allow_redirects=False, timeout=30)


def run_count(server) -> int:
    with LAB.connection(server.app) as conn:
        return conn.execute(select(func.count()).select_from(runs)).scalar()


def run_row(server, run_id: str) -> dict:
    with LAB.connection(server.app) as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return dict(row)
