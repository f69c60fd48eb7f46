"""Benchmark: token-endpoint requests per second of the sandbox on 127.0.0.1.

Starts ``app.py --sandbox-only`` in a subprocess on a free port with a fresh SQLite
file, then sends client-credentials token requests (Basic auth, so each one hashes
and compares a client secret and writes a token) from several client threads.

    .venv/bin/python bench/sandbox_token.py [--requests 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowlab.demo import demo_apps  # noqa: E402

KEY = "benchmark-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, folder: str) -> subprocess.Popen:
    env = {**os.environ, "FLOWLAB_SECRET_KEY": KEY,
           "FLOWLAB_SANDBOX_DATABASE": os.path.join(folder, "bench.sqlite3")}
    process = subprocess.Popen(
        [sys.executable, "app.py", "--sandbox-only", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the sandbox did not start")


def run(url: str, auth: tuple[str, str], count: int, clients: int) -> float:
    """Send ``count`` token requests from ``clients`` threads; seconds taken."""
    sessions = [requests.Session() for _ in range(clients)]

    def one(i: int) -> None:
        response = sessions[i % clients].post(
            url, data={"grant_type": "client_credentials"}, auth=auth
        )
        assert response.status_code == 200, response.text

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(50)))  # warm up
        began = time.perf_counter()
        list(pool.map(one, range(count)))
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    config = Config(str(ROOT))
    config["SECRET_KEY"] = KEY
    web, _ = demo_apps(config)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = start(port, folder)
        try:
            url = f"http://127.0.0.1:{port}/sandbox/api/token"
            seconds = run(url, (web.client_id, web.client_secret), args.requests,
                          args.clients)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"sandbox token endpoint (client_credentials, Basic auth): "
          f"{args.requests} requests, {args.clients} client threads, "
          f"{seconds:.2f} s, {args.requests / seconds:.0f} requests/second")


if __name__ == "__main__":
    main()
