"""Start the app as ``make run`` does, time its cold start, watch its memory."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def supports_workers() -> bool:
    """Whether this ``app.py`` takes ``--workers`` (it says so in ``--help``)."""
    shown = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    return "--workers" in shown.stdout


def environment(folder: str, database_url: str | None) -> dict:
    """Fresh SQLite files (or the given database), a fixed key, the hello route."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "benchmark-key",
           "FLOWLAB_BENCH_HELLO": "1",
           "FLOWLAB_SANDBOX_DATABASE": os.path.join(folder, "sandbox.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": os.path.join(folder, "runs.sqlite3")}
    for name in ("FLOWLAB_DATABASE_URL", "FLOWLAB_SANDBOX_ONLY", "FLOWLAB_PUBLIC_URL"):
        env.pop(name, None)
    if database_url:
        env["FLOWLAB_DATABASE_URL"] = database_url
    return env


def first_200(port: int, path: str = "/") -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class App:
    """``python app.py --port P [--workers N]`` in a subprocess."""

    def __init__(self, port: int, env: dict, workers: int | None) -> None:
        self.port = port
        command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        self.command = command
        began = time.perf_counter()
        # The app's own output goes to a file (a full pipe would block it), or to
        # the terminal with BENCH_DEBUG=1.
        shown = bool(os.environ.get("BENCH_DEBUG"))
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, text=True,
            stdout=None if shown else self.log, stderr=None if shown else self.log)
        deadline = began + 60
        while not first_200(port):
            if self.process.poll() is not None:
                self.log.seek(0)
                raise SystemExit("the app stopped:\n" + self.log.read()[-4000:])
            if time.perf_counter() > deadline:
                self.stop()
                raise SystemExit("the app did not answer within 60 s")
            time.sleep(0.01)
        self.cold_start = time.perf_counter() - began
        self.memory = Memory(self.process.pid)

    def workers_booted(self) -> int:
        """gunicorn's "Booting worker" lines so far (0 with BENCH_DEBUG=1). Read
        with pread: the app writes through the same file offset."""
        size = os.fstat(self.log.fileno()).st_size
        return os.pread(self.log.fileno(), size, 0).count(b"Booting worker")

    def restarts(self) -> int:
        """Workers booted beyond those running now (gunicorn replaces any that dies
        or misses its heartbeat); 0 with one process."""
        try:
            running = len(self.memory.root.children())
        except psutil.Error:
            return 0
        return max(0, self.workers_booted() - running)

    def stop(self) -> None:
        if hasattr(self, "memory"):
            self.memory.stop()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Memory:
    """Peak resident memory of the server process and its children, sampled."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.peaks: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.done = threading.Event()
        self.every = every
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.done.wait(self.every):
            self.sample()

    def sample(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        for index, process in enumerate(processes):
            try:
                rss = process.memory_info().rss
            except psutil.Error:
                continue
            self.names.setdefault(process.pid, "main" if index == 0 else "worker")
            self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server process and its children."""
        total = 0.0
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return total
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def reset(self) -> None:
        self.sample()
        self.peaks = {}

    def report(self) -> list[dict]:
        """Each process's peak since the last reset, in MB."""
        self.sample()
        return [{"pid": pid, "role": self.names[pid], "peak_mb": round(rss / 2**20, 1)}
                for pid, rss in sorted(self.peaks.items())]

    def stop(self) -> None:
        self.done.set()
