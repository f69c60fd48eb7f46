"""The lean hot path over HTTP: what is built once or kept never changes what a
user sees, and a revealed secret is never served from a kept page part."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
import requests

from flowlab.core.demo import demo_apps
from tests.conftest import make_app
from tests.flowrunner import FlowRunner
from tests.sandbox_helpers import basic


def _diagram(html: str) -> str:
    return re.search(r'<h2 id="seq-h">.*?</section>', html, re.S).group(0)


@pytest.fixture(scope="module")
def two_runs(live_server):
    runs = []
    for _ in range(2):
        runner = FlowRunner(live_server).start("authorization-code")
        runner.run_all()
        runs.append(runner)
    return runs


def test_a_kept_masked_part_never_shows_a_revealed_secret(two_runs):
    runner = two_runs[0]
    url = runner.run_url + "?step=4"
    masked = runner.get(url).text
    revealed = runner.get(url + "&reveal=1").text
    again = runner.get(url).text
    plain = unescape(re.sub(r"<[^>]+>", "", revealed))
    token = re.search(r'"access_token": ?"([^"]+)"', plain).group(1)
    assert "•" not in token and len(token) > 20
    assert token not in unescape(masked)
    assert token not in unescape(again)
    assert masked == again


def test_runs_at_the_same_point_share_the_diagram_and_not_their_tokens(two_runs):
    first, second = (r.get(r.run_url + "?step=4").text for r in two_runs)
    assert _diagram(first) == _diagram(second)
    assert 'class="sequence' in _diagram(first) or "<svg" in _diagram(first)
    assert first.split('<h2 id="seq-h">')[0] != second.split('<h2 id="seq-h">')[0]


def test_one_shared_token_endpoint_answers_each_request_on_its_own(live_server):
    """Right and wrong secrets at once: the endpoints are built once per app, so
    nothing of one request may leak into another's answer (RFC 6749 §5.1, §5.2)."""
    web, _ = demo_apps(live_server.app.config)

    def call(i: int) -> requests.Response:
        secret = web.client_secret if i % 2 else "wrong-" + web.client_secret
        return requests.post(live_server("/sandbox/api/token"), timeout=10,
                             headers=basic(web.client_id, secret),
                             data={"grant_type": "client_credentials"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(16)))
    good = [a.json()["access_token"] for a in answers[1::2]]
    assert [a.status_code for a in answers[1::2]] == [200] * 8
    assert len(set(good)) == 8
    assert {a.json()["error"] for a in answers[::2]} == {"invalid_client"}


@pytest.mark.parametrize("flag,status", [(None, 404), (1, 200)])
def test_the_hello_route_exists_only_for_the_bench(tmp_path, flag, status):
    config = {"BENCH_HELLO": flag} if flag else {}
    client = make_app(tmp_path, **config).test_client()
    assert client.get("/_bench/hello").status_code == status


def test_a_lesson_diagram_rendered_once_is_the_macro_s_own(app):
    from flask import get_template_attribute

    from flowlab.web.session import get_content

    client = app.test_client()
    first = client.get("/lessons/authorization-code-pkce").get_data(as_text=True)
    second = client.get("/lessons/authorization-code-pkce").get_data(as_text=True)
    with app.test_request_context():
        page = get_content().page("lessons/authorization-code-pkce")
        fresh = get_template_attribute("_sequence.html", "sequence")(
            page.meta["diagram"], label=f"Sequence diagram: {page.title}")
    assert str(fresh) in first
    assert first == second
