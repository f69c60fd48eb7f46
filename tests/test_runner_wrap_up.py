"""Introspect and revoke, offered at the end of every run that holds a token where
the provider's metadata names both endpoints: introspect (RFC 7662 §2: active, its
fields annotated), revoke (RFC 7009 §2), then the API refuses the token (RFC 6750
§3.1: 401). Each is a step on the wire; against the sandbox, over HTTP."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.flowrunner import FlowRunner
from tests.forms import submit

OFFER = "Introspect and revoke"


def text(html: str) -> str:
    """The page's text; ``HTTP / 1.1`` (split by the highlighter) joined again."""
    said = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    for split, joined in (("HTTP / 1.1", "HTTP/1.1"), (" : ", ": "), (" = ", "="),
                          (" & ", "&")):
        said = said.replace(split, joined)
    return said


def step(runner, number: int) -> str:
    return runner.get(f"{runner.run_url}?step={number}").text


@pytest.mark.parametrize(("flow_id", "auth"), [
    ("authorization-code-pkce", "client_id="),  # a public client: client_id alone
    ("client-credentials", "Authorization: Basic"),  # confidential: its secret
])
def test_introspect_revoke_then_the_api_refuses(live_server, flow_id, auth):
    runner = FlowRunner(live_server).start(flow_id)
    page = runner.run_all()
    assert "That is the whole flow." in page.text and OFFER in page.text
    done = runner.step_count()
    runner.follow(submit(runner.session, page, OFFER))
    page = runner.run_all()
    assert "run-step-failed" not in page.text, text(page.text)[-1500:]
    assert "That is the whole flow." in page.text
    assert OFFER not in page.text  # once is enough: the token is gone
    introspect = step(runner, done + 1)
    said = text(introspect)
    assert "POST /sandbox/api/introspect HTTP/1.1" in said and auth in said
    assert "token_type_hint=access_token" in said
    assert '"active": true' in said
    assert "RFC 7662 §2.2" in said  # the answer's fields, annotated
    revoke = text(step(runner, done + 2))
    assert "POST /sandbox/api/revoke HTTP/1.1" in revoke and "HTTP/1.1 200" in revoke
    refused = text(step(runner, done + 3))
    assert "GET /sandbox/v1/" in refused and "HTTP/1.1 401" in refused
    assert 'error="invalid_token"' in refused


def test_a_token_already_dead_is_introspected_as_inactive(live_server):
    """The authorization code flow ends by replaying its code, which revokes the
    tokens issued with it (RFC 6749 §4.1.2): introspection says so, and no more."""
    runner = FlowRunner(live_server).start("authorization-code")
    page = runner.run_all()
    done = runner.step_count()
    runner.follow(submit(runner.session, page, OFFER))
    page = runner.run_all()
    assert "run-step-failed" not in page.text, text(page.text)[-1500:]
    said = text(step(runner, done + 1))
    assert '{ "active": false }' in said and "reveals nothing" in said


def test_not_offered_to_a_run_without_a_token(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    runner.next()  # the authorization URL only: no token yet
    assert OFFER not in runner.page.text


def test_the_offer_is_refused_for_a_run_that_cannot_take_it(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    page = runner.next()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = runner.session.post(f"{runner.run_url}/wrap-up",
                                 data={"csrf_token": csrf}, allow_redirects=False,
                                 timeout=10)
    assert answer.status_code == 303
    runner.get(runner.run_url)
    assert runner.step_count() == 1 and "Introspect" not in runner.page.text


def test_a_wrapped_up_run_exports_and_imports(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    page = runner.run_all()
    runner.follow(submit(runner.session, page, OFFER))
    runner.run_all()
    for fmt in ("md", "sh", "http", "json", "har"):
        answer = runner.session.get(f"{runner.run_url}/export.{fmt}", timeout=10)
        assert answer.status_code == 200, fmt
        assert "/api/introspect" in answer.text, fmt
    export = runner.session.get(f"{runner.run_url}/export.json", timeout=10)
    form = runner.get(live_server("/runs/import"))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = runner.session.post(live_server("/runs/import"),
                               data={"csrf_token": csrf}, allow_redirects=False,
                               files={"file": ("run.json", export.content)},
                               timeout=30)
    assert done.status_code == 303, done.text[-800:]
    shown = runner.get(live_server(done.headers["Location"]) + "?step=6").text
    assert "POST /sandbox/api/revoke HTTP/1.1" in text(shown)


def test_the_offer_needs_the_csrf_token_and_the_runs_own_browser(live_server):
    import requests

    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    forged = runner.session.post(f"{runner.run_url}/wrap-up", data={},
                                 allow_redirects=False, timeout=10)
    assert forged.status_code in (400, 403)
    stranger = requests.post(f"{runner.run_url}/wrap-up", allow_redirects=False,
                             timeout=10)
    assert stranger.status_code in (400, 403, 404)
    assert OFFER in runner.get(runner.run_url).text  # still only offered
