"""The outside peer: oidc-provider (the suite's pinned copy, ``tests/oidc``), its
token endpoint measured against ours in one run, A B A B, by the same load
generator with the same connections, client credentials on both sides.

oidc-provider keeps its client-credentials defaults (an opaque access token,
``client_secret_basic``), as ``tests/oidc/server.mjs`` configures its web client.
Every answer on either side must be a 200; any other is counted as an error.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager

import pytest

from tests import oidc_harness

CONNECTIONS = 32
PACKAGE = oidc_harness.SERVER_DIR / "node_modules/oidc-provider/package.json"
FORM = "application/x-www-form-urlencoded"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@contextmanager
def oidc_provider():
    """oidc-provider on 127.0.0.2, stopped on leaving; its issuer URL."""
    server = oidc_harness.start("http://127.0.0.1/run/callback")
    try:
        yield server
    finally:
        oidc_harness.stop(server)


def compare(load: Callable[..., dict], ours: dict, seconds: float) -> dict:
    """``load(port, requests, seconds, host=, connections=)`` run A B A B: ours
    (``{"port", "request"}``), then oidc-provider's, twice; the summed rates'
    ratio, both sides' errors, and each round. Without ``make oidc``'s install, or
    without Node, the row says why it was not measured (the bench installs nothing)."""
    if not PACKAGE.exists():
        return {"unavailable": "tests/oidc/node_modules is missing: run make oidc"}
    try:
        with oidc_provider() as server:
            with urllib.request.urlopen(server.discovery_url, timeout=10) as answer:
                endpoint = json.load(answer)["token_endpoint"]
            theirs = {"method": "POST", "path": endpoint.removeprefix(server.issuer),
                      "body": "grant_type=client_credentials",
                      "headers": {"Authorization": _basic(*oidc_harness.WEB),
                                  "Content-Type": FORM}}
            port = int(server.issuer.rsplit(":", 1)[1])
            rounds = []
            for _ in range(2):
                rounds.append(("flowlab", load(
                    ours["port"], [ours["request"]], seconds,
                    connections=CONNECTIONS)))
                rounds.append(("oidc-provider", load(
                    port, [theirs], seconds, host=oidc_harness.HOST,
                    connections=CONNECTIONS)))
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        return {"unavailable": str(exc).splitlines()[0]}
    sides = {name: [row for who, row in rounds if who == name]
             for name in ("flowlab", "oidc-provider")}
    rate = {name: sum(row["rps"] for row in rows) / len(rows)
            for name, rows in sides.items()}
    worst = {name: max(row["p99_ms"] for row in rows) for name, rows in sides.items()}
    return {
        "version": json.loads(PACKAGE.read_text())["version"],
        "connections": CONNECTIONS, "rps": rate, "p99_ms": worst,
        "ratio": round(rate["flowlab"] / (rate["oidc-provider"] or 1.0), 3),
        "errors": {name: sum(row["errors"] for row in rows)
                   for name, rows in sides.items()},
        "rounds": [{"server": who, **row} for who, row in rounds],
    }
