"""Workshop simulation, run in its own process: attendees run the PKCE flow.

Each attendee is one browser-like client (its own cookies) that does the whole
flow through the live runner as the tests' FlowRunner does: open the start page,
Start, Next, log in at the sandbox, Agree, the callback, then Next to the end.
Arrivals are spread evenly over ``--spread`` seconds (0: all at once). Prints one
JSON line: every request's latency, errors, runs finished and the time taken.

Each attendee's ``requests.Session`` keeps its connection alive between requests, as
a learner's script does, and never retries: a request the server drops without an
answer (closed, reset) is an error, and is also counted in ``dropped``.

    python bench/workshop.py --port P --attendees 150 [--spread 30] [--offset 0]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import flowrunner  # noqa: E402
from tests import forms  # noqa: E402
from tests.flowrunner import FlowRunner  # noqa: E402

FLOW = "authorization-code-pkce"
REQUEST_TIMEOUT = 30
FORM = re.compile(r"<form\b.*?</form>", re.S | re.I)


class _Part:
    def __init__(self, text: str, url: str) -> None:
        self.text, self.url = text, url


def quick_submit(session, response, button_text: str, **overrides):
    """``tests.forms.submit``, parsing only the forms that mention the button: step
    pages are large, and the load generator must not eat the server's cores."""
    for form in FORM.findall(response.text):
        if button_text.lower() in form.lower():
            try:
                return forms.submit(session, _Part(form, response.url), button_text,
                                    **overrides)
            except AssertionError:
                continue
    return forms.submit(session, response, button_text, **overrides)


flowrunner.submit = quick_submit


class TimedSession(requests.Session):
    """A session that records each request's latency and any failed status."""

    def __init__(self, log: list, errors: list, dropped: list) -> None:
        super().__init__()
        self.log, self.errors, self.dropped = log, errors, dropped

    def request(self, method, url, **kwargs):
        # A browser waits minutes; the tests' FlowRunner gives up after 10 s. The
        # bench allows 30 s per request and counts anything slower as an error.
        kwargs["timeout"] = REQUEST_TIMEOUT
        began = time.perf_counter()
        try:
            answer = super().request(method, url, **kwargs)
        except requests.RequestException as exc:
            self.errors.append(f"{method} {url}: {type(exc).__name__}")
            if isinstance(exc, requests.ConnectionError) and not isinstance(
                    exc, requests.Timeout):
                self.dropped.append(f"{method} {url}: {exc}"[:300])
            raise
        finally:
            self.log.append(time.perf_counter() - began)
        if answer.status_code >= 400:
            self.errors.append(f"{method} {url}: {answer.status_code}")
        return answer


class Base:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def attendee(base: Base, at: float, deadline: float, out: dict) -> None:
    """Wait for this attendee's arrival, then run the flow to its end."""
    time.sleep(max(0.0, at - time.perf_counter()))
    runner = FlowRunner(base)
    runner.session = TimedSession(out["latencies"], out["errors"], out["dropped"])
    try:
        runner.start(FLOW)
        for _ in range(40):
            if time.perf_counter() > deadline:
                out["errors"].append("deadline passed before the run ended")
                return
            if "data-csrf=" in runner.page.text:
                runner.post_fragment()
            elif 'id="next"' not in runner.page.text:
                break
            elif "/authorize?" in (runner.next_link() or ""):
                runner.authorize()
            else:
                runner.next()
        if "That is the whole flow" in runner.page.text:
            out["finished"].append(time.perf_counter())
        else:
            out["errors"].append(f"run not finished: {runner.page.url}")
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none hidden
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
    finally:  # leave, as a closed tab does, so the connection is free for others
        runner.session.close()
        out["ended"].append(at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--attendees", type=int, default=150)
    parser.add_argument("--spread", type=float, default=30.0)
    parser.add_argument("--offset", type=float, default=0.0,
                        help="seconds added to every arrival (to interleave)")
    parser.add_argument("--deadline", type=float, default=120.0,
                        help="seconds after the first arrival when runs give up")
    parser.add_argument("--start-at", type=float, default=0.0,
                        help="wall-clock time.time() of the first arrival")
    args = parser.parse_args()
    base = Base(f"http://127.0.0.1:{args.port}")
    out: dict = {"latencies": [], "errors": [], "finished": [], "dropped": [],
                 "ended": []}
    wait = max(0.0, args.start_at - time.time()) if args.start_at else 0.0
    began = time.perf_counter() + wait
    deadline = began + args.deadline
    gap = args.spread / args.attendees if args.spread else 0.0
    threads = [threading.Thread(target=attendee, daemon=True, args=(
        base, began + args.offset + i * gap, deadline, out))
        for i in range(args.attendees)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline + 15 - time.perf_counter()))
    # A run still waiting for an answer when the time is up is an error too.
    out["errors"] += ["still running at the deadline"] * (
        args.attendees - len(out["ended"]))
    ended = max(out["finished"], default=time.perf_counter())
    print(json.dumps({
        "attendees": args.attendees, "finished": len(out["finished"]),
        "seconds": round(ended - began, 3), "errors": out["errors"],
        "dropped": out["dropped"],
        "latencies": [round(x, 5) for x in out["latencies"]],
    }), flush=True)


if __name__ == "__main__":
    main()
