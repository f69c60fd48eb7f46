"""What the timed requests need, made over HTTP before the clock starts: a finished
run's step page with its browser's cookie, and authorization codes got through the
sandbox's own login and consent forms."""

from __future__ import annotations

import base64
import http.client
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests
from flask import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workshop import Base  # noqa: E402

from flowlab.core.demo import demo_apps  # noqa: E402
from tests.flowrunner import FlowRunner  # noqa: E402
from tests.forms import submit  # noqa: E402

CALLBACK = "http://127.0.0.1/run/callback"


def web_app(secret_key: str):
    config = Config(str(ROOT))
    config["SECRET_KEY"] = secret_key
    return demo_apps(config)[0]


def basic(app) -> str:
    pair = f"{app.client_id}:{app.client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def finished_step_page(port: int) -> tuple[str, str]:
    """A finished PKCE run's third step (the token response): path and Cookie."""
    runner = FlowRunner(Base(f"http://127.0.0.1:{port}")).start(
        "authorization-code-pkce")
    page = runner.run_all()
    assert "That is the whole flow" in page.text, page.url
    path = urlsplit(runner.run_url).path + "?step=3"
    # Opened once, as a browser would: its cookie then names the step it shows (the
    # presenter view follows it), and every request of the load is a reload of it.
    runner.session.get(runner.run_url + "?step=3").raise_for_status()
    return path, _cookie_header(runner.session)


def _cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def codes(port: int, app, count: int) -> list[str]:
    """``count`` codes for the web app: the first through login and Agree, the rest
    from the authorize URL of a user who already agreed (RFC 6749 §4.1.2)."""
    query = urlencode({"response_type": "code", "client_id": app.client_id,
                       "redirect_uri": CALLBACK, "state": "bench"})
    url = f"http://127.0.0.1:{port}/sandbox/authorize?{query}"
    with requests.Session() as session:
        page = session.get(url, timeout=10)
        page = submit(session, page, "alice")
        page = session.get(url, allow_redirects=False, timeout=10)
        if page.status_code == 200:
            page = submit(session, page, "Agree")
        first = _code(page.headers["Location"])
        cookie = _cookie_header(session)
    path = urlsplit(url)._replace(scheme="", netloc="").geturl()

    def one(_: int) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers={"Cookie": cookie})
            answer = conn.getresponse()
            answer.read()
            return _code(answer.getheader("Location"))
        finally:
            conn.close()

    with ThreadPoolExecutor(4) as pool:
        return [first, *pool.map(one, range(count - 1))]


def _code(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def exchange_body(code: str) -> str:
    return urlencode({"grant_type": "authorization_code", "code": code,
                      "redirect_uri": CALLBACK})
