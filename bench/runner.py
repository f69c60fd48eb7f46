"""Benchmark: whole live-runner flows per second, and the time of one Next click.

Starts ``app.py`` (the lab with its mounted sandbox) in a subprocess on a free port
with fresh SQLite files, then drives complete runs over HTTP exactly as the tests'
FlowRunner does: Next, log in as a demo user, Agree, ... until the run is over.

    .venv/bin/python bench/runner.py [--runs 40] [--clients 1 10 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.conftest import wait_for  # noqa: E402
from tests.flowrunner import FlowRunner  # noqa: E402

FLOWS = ("authorization-code", "authorization-code-pkce", "client-credentials",
         "implicit")


class Server:
    """A base URL with the call form FlowRunner expects."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def one_run(server: Server, flow: str, clicks: list[float]) -> None:
    """Run ``flow`` to its end; record how long each Next click took."""
    runner = FlowRunner(server).start(flow)
    for _ in range(40):
        if "data-csrf=" in runner.page.text:
            runner.post_fragment()
        elif 'id="next"' not in runner.page.text:
            break
        elif "/authorize?" in (runner.next_link() or ""):
            runner.authorize()
        else:
            started = time.perf_counter()
            runner.next()
            clicks.append(time.perf_counter() - started)
    if "That is the whole flow" not in runner.page.text:
        raise SystemExit(f"a {flow} run did not finish: {runner.page.url}")


def measure(server: Server, runs: int, clients: int) -> None:
    clicks: list[float] = []
    jobs = [FLOWS[i % len(FLOWS)] for i in range(runs)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda flow: one_run(server, flow, clicks), jobs))
    elapsed = time.perf_counter() - started
    clicks.sort()
    p95 = clicks[int(len(clicks) * 0.95) - 1]
    print(f"{clients:>3} clients: {runs} runs in {elapsed:5.2f} s = "
          f"{runs / elapsed:6.1f} runs/s; Next click median "
          f"{statistics.median(clicks) * 1000:5.1f} ms, p95 {p95 * 1000:5.1f} ms "
          f"({len(clicks)} clicks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 20])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {**os.environ, "FLOWLAB_SECRET_KEY": "benchmark-key",
               "FLOWLAB_SANDBOX_DATABASE": os.path.join(folder, "sandbox.sqlite3"),
               "FLOWLAB_RUNS_DATABASE": os.path.join(folder, "runs.sqlite3")}
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(port, process)
            print(f"Live runner, the four flows in turn, on 127.0.0.1:{port} "
                  f"({os.cpu_count()} cores)")
            for clients in args.clients:
                measure(Server(f"http://127.0.0.1:{port}"), args.runs, clients)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
