"""Profile the hot paths in one process with pyinstrument: token, step page, Next.

Builds the app on fresh SQLite files, serves it on a free port in threads (the
runner's back channel needs a real listener), then profiles, through Flask's test
client: client-credentials token requests, GETs of a finished step page, and the
Next clicks of whole PKCE runs. Prints each profile's call tree.

    .venv/bin/python bench/hotpaths.py [--count 300] [--only token|step|next]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import pstats
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

from pyinstrument import Profiler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowlab.core.demo import demo_apps  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.flowrunner import FlowRunner  # noqa: E402


def profile(label: str, count: int, call) -> None:
    call()  # warm up
    profiler = Profiler(interval=0.0005)
    began = time.perf_counter()
    profiler.start()
    for _ in range(count):
        call()
    profiler.stop()
    each = (time.perf_counter() - began) / count * 1000
    print(f"\n===== {label}: {count} calls, {each:.2f} ms each (under the profiler)")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


ID = re.compile(r"(?<=/runs/)[A-Za-z0-9_-]{8,}")


class NextProfile:
    """WSGI middleware: cProfile of every Next POST on the server side, summed."""

    def __init__(self, app) -> None:
        self.app, self.stats, self.lock = app, None, threading.Lock()
        self.cpu: dict[str, tuple[int, float]] = {}
        self.cprofile = False

    def __call__(self, environ, start_response):
        if not (self.cprofile and environ["PATH_INFO"].endswith("/next")):
            return self._timed(environ, start_response)
        profiler = cProfile.Profile()
        answer = profiler.runcall(self.app, environ, start_response)
        with self.lock:
            if self.stats is None:
                self.stats = pstats.Stats(profiler, stream=io.StringIO())
            else:
                self.stats.add(profiler)
        return answer

    def _timed(self, environ, start_response):
        """Other requests: this thread's CPU time, summed per kind of path."""
        began = time.thread_time()
        answer = self.app(environ, start_response)
        kind = environ["REQUEST_METHOD"] + " " + ID.sub("<id>", environ["PATH_INFO"])
        if environ.get("flowlab.core.backchannel"):
            kind += " (back channel)"
        with self.lock:
            count, total = self.cpu.get(kind, (0, 0.0))
            self.cpu[kind] = (count + 1, total + time.thread_time() - began)
        return answer

    def costs(self, flows: int) -> str:
        """CPU ms per request and per flow of each kind of request."""
        rows = sorted(self.cpu.items(), key=lambda item: -item[1][1])
        return "\n".join(f"{total / count * 1000:7.2f} ms x {count / flows:4.1f}"
                         f" per flow = {total / flows * 1000:6.2f} ms  {kind}"
                         for kind, (count, total) in rows)

    def text(self) -> str:
        stream = io.StringIO()
        self.stats.stream = stream
        self.stats.sort_stats("cumulative").print_stats(30)
        return stream.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--only", choices=("token", "step", "next", "home", "lesson",
                                           "advisor", "hello"))
    parser.add_argument("--cprofile", action="store_true",
                        help="cProfile the server side of Next (slows it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), BENCH_HELLO=1)
        app.wsgi_app = next_profile = NextProfile(app.wsgi_app)
        next_profile.cprofile = args.cprofile
        server = LiveServer(app)
        client = app.test_client()
        web, _ = demo_apps(app.config)
        basic = base64.b64encode(f"{web.client_id}:{web.client_secret}".encode())
        headers = {"Authorization": "Basic " + basic.decode()}

        def token() -> None:
            answer = client.post("/sandbox/api/token", headers=headers,
                                 data={"grant_type": "client_credentials"})
            assert answer.status_code == 200, answer.text

        runner = FlowRunner(server).start("authorization-code-pkce")
        runner.run_all()
        runner.session.get(runner.run_url + "?step=3")  # as bench/prepare.py does
        cookie = runner.session.cookies.get("session")
        step_url = runner.run_url.replace(server.url, "") + "?step=3"

        def step() -> None:
            client.set_cookie("session", cookie, domain="127.0.0.1")
            answer = client.get(step_url, base_url=server.url)
            assert answer.status_code == 200

        def next_clicks() -> None:
            FlowRunner(server).start("authorization-code-pkce").run_all()

        def page(path: str):
            return lambda: client.get(path, base_url=server.url)

        jobs = {"hello": (args.count, page("/_bench/hello")),
                "home": (args.count, page("/")),
                "lesson": (args.count, page("/lessons/authorization-code-pkce")),
                "advisor": (args.count, page("/advisor?acts_for_user=yes&runs_on="
                                             "server&needs_refresh=yes")),
                "token": (args.count, token), "step": (args.count, step),
                "next": (max(args.count // 20, 5), next_clicks)}
        for name, (count, call) in jobs.items():
            if args.only in (None, name):
                profile(name, count, call)
        if args.only in (None, "next"):
            if args.cprofile:
                print("\n===== Next POSTs, server side (cProfile, cumulative)")
                print(next_profile.text())
            print("===== Requests of those flows, server CPU (thread time)")
            print(next_profile.costs(jobs["next"][0] + 1))
        server.close()


if __name__ == "__main__":
    if not re.match(r"3\.1[1-9]", sys.version):
        print("note: written for Python 3.11+", file=sys.stderr)
    main()
