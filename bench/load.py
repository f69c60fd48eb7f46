"""Load generator, run in its own process: one request shape over keep-alive
connections, bounded by a request count and a time limit, only to 127.0.0.1.

Reads a JSON job on stdin and prints one JSON result line:

    {"host": "127.0.0.1", "port": 5000, "connections": 8, "seconds": 4, "warmup": 0.3,
     "max_requests": 20000, "requests": [{"method": "GET", "path": "/",
     "headers": {}, "body": ""}], "once": false}

With ``"once": true`` each listed request is sent at most once (one-time codes);
otherwise the list is cycled. Every answer must be a 200. A connection that
fails without an answer (closed, reset, refused) is counted as dropped, and as an
error; unlike ``requests``, ``http.client`` reuses a kept-alive connection without
first checking whether the server has closed it, so none is hidden.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time

HOSTS = ("127.0.0.1", "127.0.0.2")  # the app and the outside peer (bench/peer.py)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (sorted in place)."""
    if not values:
        return 0.0
    values.sort()
    return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))]


class Job:
    def __init__(self, job: dict) -> None:
        self.job = job
        source = job["requests"]
        self.source = iter(source) if job.get("once") else itertools.cycle(source)
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.dropped = 0
        self.sent = 0

    def take(self, deadline: float) -> dict | None:
        with self.lock:
            if time.perf_counter() > deadline or self.sent >= self.job["max_requests"]:
                return None
            self.sent += 1
            return next(self.source, None)

    def connect(self) -> http.client.HTTPConnection:
        host = self.job.get("host", HOSTS[0])
        assert host in HOSTS, host  # loopback only
        return http.client.HTTPConnection(host, self.job["port"], timeout=10)

    def worker(self, deadline: float, record_after: float) -> None:
        conn = self.connect()
        while (spec := self.take(deadline)) is not None:
            began = time.perf_counter()
            dropped = False
            try:
                conn.request(spec["method"], spec["path"], body=spec.get("body"),
                             headers=spec.get("headers", {}))
                answer = conn.getresponse()
                answer.read()
                status = str(answer.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                dropped = isinstance(exc, ConnectionError | http.client.BadStatusLine)
                conn.close()
                conn = self.connect()
            ended = time.perf_counter()
            if dropped:  # counted during the warm-up too
                with self.lock:
                    self.dropped += 1
            if began < record_after:
                continue
            with self.lock:
                self.latencies.append(ended - began)
                if status != "200":
                    self.errors[status] = self.errors.get(status, 0) + 1
        conn.close()


def run(job: dict) -> dict:
    state = Job(job)
    began = time.perf_counter()
    record_after = began + job.get("warmup", 0.0)
    deadline = record_after + job["seconds"]
    threads = [threading.Thread(target=state.worker, args=(deadline, record_after))
               for _ in range(job["connections"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - max(record_after, began)
    latencies = state.latencies
    count = len(latencies)
    return {
        "requests": count, "seconds": round(elapsed, 3),
        "rps": round(count / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "errors": sum(state.errors.values()), "error_kinds": state.errors,
        "dropped": state.dropped,
    }


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))), flush=True)
