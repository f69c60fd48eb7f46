"""Compare with…: two real runs against the served sandbox, one moment side by side.

The step to compare is found from the flow's data (the first step with a given
action), never from step ids or counts.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode
from urllib.parse import urljoin

import pytest

from flowlab.core.http import Message
from flowlab.core.runner import compare
from tests.flowrunner import FlowRunner
from tests.forms import find_form
from tests.forms import submit


def _number(server, flow_id: str, action: str) -> int:
    """The 1-based step of ``flow_id`` that first does ``action``."""
    steps = server.app.extensions["flowlab"].runner.flows[flow_id].steps
    return next(i for i, step in enumerate(steps, 1) if step["action"] == action)


def _run(server, flow_id: str, session=None, **form) -> str:
    """Run ``flow_id`` to its end in ``session``'s browser; the run's id."""
    runner = FlowRunner(server)
    if session is not None:
        runner.session = session
    start = runner.get(server(f"/run/{flow_id}"))
    runner.follow(submit(runner.session, start, "Start", **form))
    runner.run_all()
    return runner.page.url.split("?")[0].rsplit("/", 1)[1]


def _compare(session, server, **args) -> str:
    page = session.get(server("/compare?" + urlencode(args)), timeout=10)
    assert page.status_code == 200, page.text
    return page.text


def _rows(html: str) -> dict[str, tuple[str, str, str]]:
    """``"where name" -> (mark, A, B)`` for every row of every diff table (the
    first table of a page wins when a name comes twice)."""
    rows = {}
    for row in re.findall(r'<tr class="diff-[^"]+">(.*?)</tr>', html, re.S):
        text = [unescape(re.sub(r"<[^>]+>", " ", cell)).split()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        mark, where, name = " ".join(text[0][:-2]), text[0][-2], text[0][-1]
        rows.setdefault(f"{where} {name}",
                        (mark, " ".join(text[1]), " ".join(text[2])))
    return rows


@pytest.fixture(scope="module")
def runs(live_server):
    """One browser with a code-flow run (PKCE by default), one without PKCE,
    a PKCE run and a client-credentials run, all finished."""
    browser = FlowRunner(live_server).session
    return browser, {
        "code": _run(live_server, "authorization-code", browser),
        "code-no-pkce": _run(live_server, "authorization-code", browser, pkce="off"),
        "pkce": _run(live_server, "authorization-code-pkce", browser),
        "client": _run(live_server, "client-credentials", browser),
    }


def test_code_flow_token_request_beside_pkce(live_server, runs):
    browser, ids = runs
    html = _compare(browser, live_server, run=ids["code"],
                    step=_number(live_server, "authorization-code", "exchange_code"),
                    other=ids["pkce"])
    rows = _rows(html)
    assert "Compare the token request" in html
    # The confidential client proves itself with Basic; the public one names itself.
    assert rows["header Authorization"][0] == "only in A"
    assert rows["header Authorization"][1].startswith("Basic ")
    assert rows["form client_id"][0] == "only in B"
    assert rows["form grant_type"] == ("same", "authorization_code",
                                       "authorization_code")
    assert rows["form code"][0] == "changed"
    assert rows["json access_token"][0] == "changed"


def test_pkce_parameters_only_where_pkce_was_used(live_server, runs):
    browser, ids = runs
    first = _number(live_server, "authorization-code", "authorize")
    html = _compare(browser, live_server, run=ids["code-no-pkce"], step=first,
                    other=ids["pkce"])
    rows = _rows(html)
    assert rows["query code_challenge"][0] == "only in B"
    assert rows["query code_challenge_method"] == ("only in B", "(absent)", "S256")
    assert rows["query response_type"] == ("same", "code", "code")
    token = _number(live_server, "authorization-code", "exchange_code")
    rows = _rows(_compare(browser, live_server, run=ids["code-no-pkce"], step=token,
                          other=ids["pkce"]))
    assert rows["form code_verifier"][0] == "only in B"


def test_code_flow_token_request_beside_client_credentials(live_server, runs):
    browser, ids = runs
    html = _compare(browser, live_server, run=ids["client"], other=ids["code"],
                    step=_number(live_server, "client-credentials", "client_token"))
    rows = _rows(html)
    assert rows["form grant_type"] == ("changed", "client_credentials",
                                       "authorization_code")
    assert rows["form code"][0] == "only in B"
    assert rows["form redirect_uri"][0] == "only in B"
    assert "json refresh_token" in rows and rows["json refresh_token"][0] == "only in B"


def test_secrets_masked_as_on_step_pages_until_revealed(live_server, runs):
    browser, ids = runs
    args = {"run": ids["code"], "other": ids["pkce"],
            "step": _number(live_server, "authorization-code", "exchange_code")}
    masked = _compare(browser, live_server, **args)
    revealed = _compare(browser, live_server, reveal=1, **args)
    secrets = [value for key in ("form code", "json access_token",
                                 "json refresh_token", "form code_verifier")
               for value in _rows(revealed)[key][1:] if value != "(absent)"]
    assert len(secrets) == 8
    for secret in secrets:
        assert secret not in masked
        assert f"{secret[:4]}…{secret[-4:]}" in unescape(masked)
        assert secret in revealed
    basic = _rows(revealed)["header Authorization"][1].split()[1]
    assert basic not in masked


def test_another_browsers_run_is_never_shown(live_server, runs):
    browser, ids = runs
    stranger = FlowRunner(live_server).session
    mine = _compare(browser, live_server, run=ids["client"])
    assert ids["code"] in mine
    theirs = _run(live_server, "client-credentials", stranger)
    assert theirs not in mine
    for args in ({"run": ids["client"]}, {"run": theirs, "other": ids["client"]}):
        page = stranger.get(live_server("/compare?" + urlencode(args)), timeout=10)
        assert page.status_code == 404
        assert ids["client"] not in page.text
    page = browser.get(live_server("/compare?" + urlencode(
        {"run": ids["client"], "other": theirs})), timeout=10)
    assert page.status_code == 404


def test_without_a_run_of_the_other_flow_start_one_and_come_back(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.next()
    left = runner.run_url.rsplit("/", 1)[1]
    page = runner.get(live_server(f"/compare?run={left}"))
    assert 'name="other"' not in page.text  # no run of another flow to choose
    # One click starts the other flow and lands on its run, in this browser.
    form, _ = find_form(page.text, "Start Authorization code with PKCE")
    started = runner.follow(runner.session.post(  # a browser re-posts after a 307
        urljoin(page.url, unescape(form["action"])), data=form["fields"], timeout=10))
    assert "/runs/" in started.url
    runner.run_all()
    back = re.search(r'href="([^"]*/compare\?[^"]+)"[^>]*>Back to the comparison',
                     runner.page.text)
    assert back, "the other run's step page links back to the comparison"
    html = runner.get(live_server(unescape(back.group(1)))).text
    assert _rows(html)["form grant_type"] == ("changed", "client_credentials",
                                              "authorization_code")


def test_values_are_escaped(live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    authorize = runner.next_link()
    state = re.search(r"[?&]state=([^&]+)", authorize).group(1)
    evil = "<img src=x onerror=alert(1)>"
    runner.follow(runner.session.get(live_server("/run/callback?" + urlencode(
        {"code": "harmless-code-1234", "state": state, "note": evil})),
        allow_redirects=False, timeout=10))
    left = runner.run_url.rsplit("/", 1)[1]
    step = _number(live_server, "authorization-code", "callback")
    html = _compare(runner.session, live_server, run=left, step=step, other=left,
                    reveal=1)
    assert evil not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(("left", "right", "states"), [
    ([("header", "Content-Type", "a")], [("header", "content-type", "a")], ["same"]),
    ([("form", "code", "1")], [("form", "code", "2")], ["changed"]),
    ([("form", "code", "1")], [], ["only-left"]),
    ([], [("query", "x", "1")], ["only-right"]),
    ([("json", "items[].id", "1"), ("json", "items[].id", "2")],
     [("json", "items[].id", "1")], ["changed"]),
])
def test_diff_by_name(left, right, states):
    assert [row.state for row in compare.diff(left, right)] == states


def test_start_line_compared_without_its_query():
    message = Message("GET /authorize?state=abc&a=1 HTTP/1.1")
    fields = compare.fields_of(message)
    assert fields[0] == ("start", "start line", "GET /authorize HTTP/1.1")
    assert ("query", "state", "abc") in fields
