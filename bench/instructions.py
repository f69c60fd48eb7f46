"""Instructions per request, counted by valgrind's callgrind: the same on a busy
machine as on a quiet one, so a before/after needs no quiet hour.

Builds the app on fresh SQLite files (as ``bench/hotpaths.py``), runs a PKCE flow,
then counts, through Flask's test client, only the instructions of ``N`` requests of
one kind (collection is switched on and off around them with ``callgrind_control``).
Run it from the root of the tree to measure; it starts itself under valgrind.

    .venv/bin/python bench/instructions.py reload|written|token|exchange|hello|home [N]

``reload``: a finished run's third step, its cookie already naming that step (as a
browser reloading it); ``written``: the same page with a cookie naming another
step, so the session is written (the presenter view follows the step page).
``token``: a client-credentials token request; ``exchange``: a code exchange (the
confidential demo app, Basic, PKCE), its codes minted beforehand, so only the
exchanges are counted.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
JOBS = ("reload", "written", "token", "exchange", "hello", "home")


def measured(job: str, count: int) -> None:
    """Inside valgrind: set up, then collect only around the requests."""
    try:
        from flowlab.core.demo import demo_apps
    except ImportError:  # a tree from before issue 19 (a before/after)
        from flowlab.demo import demo_apps
    from tests.conftest import LiveServer
    from tests.conftest import make_app
    from tests.flowrunner import FlowRunner

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), BENCH_HELLO=1)
        server = LiveServer(app)
        client = app.test_client()
        web, _ = demo_apps(app.config)
        basic = base64.b64encode(f"{web.client_id}:{web.client_secret}".encode())
        runner = FlowRunner(server).start("authorization-code-pkce")
        runner.run_all()
        step_url = runner.run_url.replace(server.url, "") + "?step=3"
        runner.session.get(runner.run_url + "?step=4")
        other = runner.session.cookies.get("session")
        runner.session.get(runner.run_url + "?step=3")
        same = runner.session.cookies.get("session")

        def step(cookie: str):
            client.set_cookie("session", cookie, domain="127.0.0.1")
            return client.get(step_url, base_url=server.url)

        exchange = exchanges(app, client, web, basic.decode(), count + 5)
        calls = {
            "reload": lambda: step(same), "written": lambda: step(other),
            "token": lambda: client.post(
                "/sandbox/api/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": "Basic " + basic.decode()}),
            "exchange": exchange,
            "hello": lambda: client.get("/_bench/hello", base_url=server.url),
            "home": lambda: client.get("/", base_url=server.url)}
        call = calls[job]
        for _ in range(5):
            assert call().status_code == 200
        pid = str(os.getpid())
        for switch in (["-z"], ["-i", "on"]):
            subprocess.run(["callgrind_control", *switch, pid], capture_output=True)
        for _ in range(count):
            call()
        for switch in (["-i", "off"], ["-d"]):
            subprocess.run(["callgrind_control", *switch, pid], capture_output=True)
        server.close()


def exchanges(app, client, web, basic: str, count: int):
    """A call that redeems the next of ``count`` codes minted now, as authorize
    would have kept them (PKCE S256), for the confidential demo app."""
    from flowlab.sandbox import grants
    from flowlab.sandbox.store import DB

    sandbox = app.extensions["sandbox"]
    settings = sandbox.settings(sandbox.profiles.default)
    verifier = "v" * 43
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    codes = [settings.token_prefix + secrets.token_urlsafe(32) for _ in range(count)]
    with DB.connection(app) as conn:
        for code in codes:
            grants.save_code(conn, code, 3600, client_id=web.client_id,
                             user_id=sorted(sandbox.catalogue.users)[0],
                             redirect_uri=web.redirect_uris[0], scopes=[],
                             challenge=challenge, method="S256")
    left = iter(codes)

    def call():
        return client.post(
            "/sandbox/api/token", headers={"Authorization": "Basic " + basic},
            data={"grant_type": "authorization_code", "code": next(left),
                  "redirect_uri": web.redirect_uris[0], "code_verifier": verifier})

    return call


def main() -> None:
    job = sys.argv[1] if len(sys.argv) > 1 else ""
    if job not in JOBS:
        raise SystemExit(__doc__)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    if os.environ.get("BENCH_UNDER_VALGRIND"):
        measured(job, count)
        return
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={folder}/out.%p", sys.executable,
             os.path.abspath(__file__), job, str(count)],
            env={**os.environ, "BENCH_UNDER_VALGRIND": "1"},
            capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if not found:
        raise SystemExit(done.stderr[-2000:])
    each = int(found.group(1)) / count
    print(f"{job}: {each / 1e6:.2f} M instructions a request ({count} requests)")


if __name__ == "__main__":
    main()
