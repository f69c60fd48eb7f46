"""A/B: one part of ``make bench`` on two or more trees, back to back, alternating.

On a machine shared with other work the load moves between two runs minutes apart,
so a before/after is only fair run by run: A, B, A, B... under the same load. Each
run starts the tree's own ``app.py`` through its own ``bench/`` (``serve.App``,
``run.routes``, ``run.workshop``) and adds the server's CPU time per request of each
route (``psutil``, every process of the server), which the load moves far less than
requests per second.

    .venv/bin/python bench/ab.py TREE_A TREE_B [...] --part routes|spread|burst|cold
        [--rounds 2] [--seconds 4] [--step-cookie own|reload|stale]

``--step-cookie``: the step page's Cookie as the tree's ``prepare`` gives it
(``own``), after one view of that step (``reload``: no session written per
request), or after a view of another step (``stale``: the session is written on
every request, as the presenter view follows the step page).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

PARTS = ("routes", "spread", "burst", "cold")


def child(tree: str, part: str, seconds: float, step_cookie: str) -> dict:
    """One run, in a process of its own, importing ``tree``'s code and bench."""
    sys.path[:0] = [os.path.join(tree, "bench"), tree]
    os.chdir(tree)
    import prepare
    import requests
    import run
    from serve import App
    from serve import environment

    from tests.conftest import free_port

    finished = prepare.finished_step_page

    def step_page(port: int) -> tuple[str, str]:
        path, cookie = finished(port)
        if step_cookie == "own":
            return path, cookie
        view = path if step_cookie == "reload" else path.replace("step=3", "step=4")
        answer = requests.get(f"http://127.0.0.1:{port}{view}",
                              headers={"Cookie": cookie}, timeout=30)
        answer.raise_for_status()
        new = answer.cookies.get("session")
        parts = [c.strip() for c in cookie.split(";")]
        if new:
            parts = [f"session={new}" if c.startswith("session=") else c for c in parts]
        return path, "; ".join(parts)

    prepare.finished_step_page = step_page
    result = {"tree": tree, "part": part, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as folder:
        env = environment(folder, None)
        first = App(free_port(), env, None)
        result["first_start_s"] = round(first.cold_start, 3)
        first.stop()
        app = App(free_port(), env, None)
        result["cold_start_s"] = round(app.cold_start, 3)
        try:
            if part == "routes":
                load = run.load

                def timed(port, requests_, seconds_, once=False):
                    before = app.memory.cpu_seconds()
                    answer = load(port, requests_, seconds_, once)
                    used = (app.memory.cpu_seconds() - before) * 1000
                    answer["cpu_ms"] = round(used / max(answer["requests"], 1), 2)
                    return answer

                run.load = timed
                result["routes"] = {
                    name: {k: row[k] for k in ("rps", "ratio", "p95_ms", "errors",
                                               "cpu_ms")}
                    for name, row in run.routes(app.port, seconds).items()}
            elif part in ("spread", "burst"):
                row = run.workshop(app, 300, 30.0 if part == "spread" else 0.0, 80.0)
                result["workshop"] = {k: row[k] for k in (
                    "finished", "seconds", "p50_ms", "p95_ms", "errors",
                    "first_errors", "server_cpu_ms_per_request")}
            elif part == "cold":
                app.memory.sample()
                result["cold_cpu_s"] = round(app.memory.cpu_seconds(), 3)
        finally:
            app.stop()
    result["load_after"] = os.getloadavg()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--part", choices=PARTS, default="routes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--step-cookie", choices=("own", "reload", "stale"),
                        default="own")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.trees[0], args.part, args.seconds,
                               args.step_cookie)))
        return
    for index in range(args.rounds):
        for tree in args.trees:
            done = subprocess.run(
                [sys.executable, os.path.abspath(__file__), tree, "--child",
                 "--part", args.part, "--seconds", str(args.seconds),
                 "--step-cookie", args.step_cookie],
                capture_output=True, text=True, timeout=900, check=True)
            line = json.loads(done.stdout.strip().splitlines()[-1])
            line["round"] = index + 1
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
