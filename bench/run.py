"""``make bench``: the app as ``make run`` starts it, measured against a hello route.

Starts ``app.py`` on a free 127.0.0.1 port with fresh storage and the hello route
switched on (``FLOWLAB_BENCH_HELLO=1``), times its cold start on a new and on an
existing database, then drives it from separate load-generator processes, each
bounded in requests and time: the hello route, pages, the token endpoint, the token
endpoint against oidc-provider's (A B A B, ``bench/peer.py``), and the workshop
simulation (300 attendees spread over 30 s, 1,000 spread over 60 s, 300 at once).
Prints every figure of issue 24 beside its target, the JSON, and records them in
``bench/RESULTS.md``. Bounded: every load has a request cap and a deadline; the
whole run takes about 5 minutes on a quiet 2-core machine, 7 on a busy one.

    .venv/bin/python bench/run.py [--workers N] [--database-url URL | --postgres]
        [--seconds 4] [--attendees 300] [--spread 30] [--crowd 1000]
        [--crowd-spread 60] [--label NAME] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import peer  # noqa: E402
import prepare  # noqa: E402
import report  # noqa: E402
from load import percentile  # noqa: E402
from serve import App  # noqa: E402
from serve import environment  # noqa: E402
from serve import supports_workers  # noqa: E402

from tests.conftest import free_port  # noqa: E402

ADVISOR = "/advisor?acts_for_user=yes&runs_on=server&needs_refresh=yes"
LESSON = "/lessons/authorization-code-pkce"


def load(port: int, requests: list[dict], seconds: float, once: bool = False,
         host: str = "127.0.0.1", connections: int = 8) -> dict:
    job = {"host": host, "port": port, "connections": connections,
           "seconds": seconds, "warmup": 0.3, "max_requests": 50_000,
           "requests": requests, "once": once}
    done = subprocess.run([sys.executable, str(HERE / "load.py")],
                          input=json.dumps(job), capture_output=True, text=True,
                          timeout=seconds + 60, check=True)
    return json.loads(done.stdout)


def routes(port: int, seconds: float) -> tuple[dict, dict]:
    """Each route's row, and the client-credentials token request (for the peer)."""
    web = prepare.web_app("benchmark-key")
    step, cookie = prepare.finished_step_page(port)
    form = "application/x-www-form-urlencoded"
    token = {"method": "POST", "path": "/sandbox/api/token",
             "body": "grant_type=client_credentials",
             "headers": {"Authorization": prepare.basic(web), "Content-Type": form}}
    get = lambda path, **headers: {"method": "GET", "path": path,  # noqa: E731
                                   "headers": headers}
    jobs = {"hello": [get("/_bench/hello")], "home": [get("/")],
            "advisor result": [get(ADVISOR)], "lesson": [get(LESSON)],
            "step page": [get(step, Cookie=cookie)],
            "token (client credentials)": [token]}
    results = {name: load(port, requests, seconds) for name, requests in jobs.items()}
    codes = prepare.codes(port, web, int(seconds * 600))
    exchanges = [{**token, "body": prepare.exchange_body(code)} for code in codes]
    results["token (code exchange)"] = load(port, exchanges, seconds, once=True)
    hello = results["hello"]["rps"] or 1.0
    for row in results.values():
        row["ratio"] = round(row["rps"] / hello, 3)
    return results, token


def workshop(app: App, attendees: int, spread: float, deadline: float) -> dict:
    """Two load processes, arrivals interleaved; merged into one row."""
    app.memory.reset()
    cpu_before = app.memory.cpu_seconds()
    start_at = time.time() + 1.5
    gap = spread / attendees if spread else 0.0
    halves = [attendees - attendees // 2, attendees // 2]
    processes = [subprocess.Popen(
        [sys.executable, str(HERE / "workshop.py"), "--port", str(app.port),
         "--attendees", str(count), "--spread", str(spread - gap * index),
         "--offset", str(gap * index), "--deadline", str(deadline),
         "--start-at", str(start_at)], stdout=subprocess.PIPE, text=True)
        for index, count in enumerate(halves) if count]
    parts = [json.loads(p.communicate(timeout=deadline + 60)[0]) for p in processes]
    latencies = [x for part in parts for x in part["latencies"]]
    errors = [e for part in parts for e in part["errors"]]
    dropped = [e for part in parts for e in part["dropped"]]
    return {
        "attendees": attendees, "spread_s": spread,
        "finished": sum(p["finished"] for p in parts),
        "seconds": max(p["seconds"] for p in parts), "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
        "errors": len(errors), "first_errors": errors[:5],
        "dropped": len(dropped), "first_dropped": dropped[:3],
        "server_cpu_ms_per_request": round(
            (app.memory.cpu_seconds() - cpu_before) * 1000 / max(len(latencies), 1), 2),
        "memory": app.memory.report(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, help="passed to app.py if it has it")
    parser.add_argument("--database-url", help="FLOWLAB_DATABASE_URL for the app")
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL 15 (tests/pg_harness.py)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--attendees", type=int, default=300)
    parser.add_argument("--spread", type=float, default=30.0)
    parser.add_argument("--crowd", type=int, default=1000)
    parser.add_argument("--crowd-spread", type=float, default=60.0)
    parser.add_argument("--deadline", type=float, default=80.0,
                        help="seconds after the first arrival when runs give up "
                             "(the crowd's is as long after its last arrival)")
    parser.add_argument("--label")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    workers = args.workers if args.workers and supports_workers() else None
    if args.workers and not workers:
        print("note: this app.py has no --workers; serving with its default")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        url = args.database_url
        if args.postgres and not url:
            from postgres import throwaway_database

            url = stack.enter_context(throwaway_database(folder))
        load_before = os.getloadavg()
        env = environment(folder, url)
        first = App(free_port(), env, workers)  # a new database: migrations run
        first.stop()
        app = App(free_port(), env, workers)  # a restart on that database
        stack.callback(app.stop)
        result = {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, load average before "
                       f"{load_before[0]:.2f}",
            "server": " ".join(app.command[1:]),
            "workers": workers or "app.py's default",
            "database": "postgresql" if url else "sqlite",
            "cold_start_s": round(app.cold_start, 3),
            "first_start_s": round(first.cold_start, 3),
        }
        result["routes"], token = routes(app.port, args.seconds)
        result["peer"] = peer.compare(load, {"port": app.port, "request": token},
                                      args.seconds)
        result["workshop"] = {
            "spread": workshop(app, args.attendees, args.spread, args.deadline),
            "crowd": workshop(app, args.crowd, args.crowd_spread, args.deadline
                              + max(0.0, args.crowd_spread - args.spread)),
            "burst": workshop(app, args.attendees, 0.0, args.deadline)}
        result["worker_restarts"] = app.restarts()
        result["machine"] += f", after {os.getloadavg()[0]:.2f}"
        result["processes"] = len(app.memory.names)
    print(report.table(result))
    print("\n".join(["", "Targets:", *report.targets(result), ""]))
    print(json.dumps(result, indent=1))
    if not args.no_record:
        label = args.label or (f"{result['database']}, --workers "
                               f"{workers or 'default'}")
        command = shlex.join(["make", "bench"] if len(sys.argv) == 1
                             else ["python", "bench/run.py", *sys.argv[1:]])
        report.record(result, command, label)


if __name__ == "__main__":
    main()
