"""The device flow in the live runner (RFC 8628): data plus one action.

The runner plays the TV over HTTP; the test plays the learner in one browser and the
learner's phone in another session, approving on the sandbox's verification page.
What the page shows is checked against what went over the wire.
"""

from __future__ import annotations

import re
import time
from html import unescape

import pytest

from tests.flowrunner import FlowRunner
from tests.test_runner import WireRecorder

FLOW = "device-authorization"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def lab(serve):
    """The lab whose sandbox tells devices to poll every second."""
    server = serve(SANDBOX_DEVICE_INTERVAL=1)
    server.recorder = server.app.wsgi_app = WireRecorder(server.app.wsgi_app)
    return server



def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_device_flow_runs_step_by_step(lab):
    runner = FlowRunner(lab).start(FLOW)
    page = runner.next()  # Step 1: the device authorization request
    code = re.search(r'class="device-code mono"><strong>([^<]+)', page.text).group(1)
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", code)
    assert f"Visit <code>{lab('/sandbox/device')}</code>" in page.text
    assert '<svg role="img"' in page.text and 'class="qr"' in page.text
    sent = [s for s in lab.recorder.seen if s["line"] == "POST /sandbox/api/device"]
    assert len(sent) == 1 and "client_id=" in sent[0]["body"]
    assert code in _text(page.text)  # the answer on the wire shows the same code

    page = runner.next()  # Step 2: two polls, the second too soon
    polls = [s["body"] for s in lab.recorder.seen
             if s["line"] == "POST /sandbox/api/token"]
    assert len(polls) == 2 and all("device_code=" in body for body in polls)
    assert "grant_type=" + DEVICE_GRANT.replace(":", "%3A") in polls[0]
    shown = _text(page.text)
    assert '"authorization_pending"' in shown and '"slow_down"' in shown
    assert "It waits 6 seconds between polls" in shown  # 1 + 5 (RFC 8628 §3.5)
    assert 'id="device-link"' in page.text and 'target="_blank"' in page.text

    runner.wait_to_poll()  # the interval since step 2's polls (RFC 8628 §3.5)
    page = runner.next()  # Step 3, first try: nobody has approved yet
    assert "authorization_pending" in _text(page.text)
    assert runner.statuses() == ["done", "done"]  # step 3 is still going on
    assert 'id="device-link"' in page.text
    done = runner.approve_device()
    assert done.status_code == 200 and "Device connected" in done.text

    runner.wait_to_poll()
    runner.next()  # Step 3, second try: the tokens
    page = runner.next()  # Step 4: the Web API with the device's token
    assert runner.statuses() == ["done"] * 4
    assert "That is the whole flow" in page.text
    assert any(s["line"] == "GET /sandbox/v1/me" for s in lab.recorder.seen)
    polls = [s for s in lab.recorder.seen if s["line"] == "POST /sandbox/api/token"]
    assert len(polls) == 4
    step3 = runner.get(runner.run_url + "?step=3")
    assert _text(step3.text).count('"authorization_pending"') >= 1
    assert '"access_token"' in _text(step3.text)
    for number in range(1, 5):  # every part of every message has its annotation
        page = runner.get(f"{runner.run_url}?step={number}")
        assert not re.findall(r'<tr class="unannotated">', page.text), number


def test_cancelling_on_the_phone_stops_the_run(lab):
    runner = FlowRunner(lab).start(FLOW)
    runner.next()
    runner.next()
    runner.approve_device(decision="Cancel")
    runner.wait_to_poll()
    page = runner.next()
    assert runner.statuses() == ["done", "done", "failed"]
    assert "access_denied" in _text(page.text)


def _token_polls(server) -> int:
    return sum(s["line"] == "POST /sandbox/api/token" for s in server.recorder.seen)


def test_next_too_soon_answers_at_once_and_says_how_long_to_wait(serve):
    """No request is held for the poll interval: the page says why it waits."""
    server = serve(SANDBOX_DEVICE_INTERVAL=3)
    server.recorder = server.app.wsgi_app = WireRecorder(server.app.wsgi_app)
    runner = FlowRunner(server).start(FLOW)
    runner.next()
    page = runner.next()  # two polls, the second answered slow_down: 3 + 5 s
    assert "It waits 8 seconds between polls" in _text(page.text)
    # The page, as it comes without a script, says the wait, its length and why.
    assert 6 <= runner.poll_wait() <= 8
    shown = " ".join(_text(page.text).split())
    assert re.search(r"The TV may poll again in [678] s \(its interval is 8 s\)", shown)
    assert "5 seconds more for every slow_down" in shown and "§3.5" in shown
    polls = _token_polls(server)
    began = time.monotonic()
    page = runner.next()  # Next, too soon: measured on the wire, POST and redirect
    took = time.monotonic() - began
    assert took < 1.5, f"Next was held {took:.1f} s"
    assert _token_polls(server) == polls  # nothing was sent to the token endpoint
    shown = " ".join(_text(page.text).split())
    assert re.search(r"Too early: the TV may poll again in [5-8] s\. Nothing was sent",
                     shown)
    assert runner.statuses() == ["done", "done"]
    runner.approve_device()
    runner.wait_to_poll()
    began = time.monotonic()
    page = runner.next()  # on time: the poll goes out, the tokens come back
    assert time.monotonic() - began < 2.5
    assert _token_polls(server) == polls + 1
    assert runner.statuses() == ["done"] * 3 and "Too early" not in page.text


def test_run_all_approves_on_the_second_device(lab):
    page = FlowRunner(lab).start(FLOW).run_all()
    assert "That is the whole flow" in page.text


def test_only_the_sandbox_offers_it(lab):
    runner = FlowRunner(lab)
    assert "Not offered by" not in _device_card(runner.get(lab("/run/")).text)
    runner.use_provider("Use Spotify", client_id="0123456789abcdef" * 2)
    card = _device_card(runner.get(lab("/run/")).text)
    assert "does not list the device grant (RFC 8628)" in " ".join(card.split())


def _device_card(html: str) -> str:
    """The part of the flow list about the device flow."""
    start = html.index(f"/run/{FLOW}")
    return html[start:html.find("</li>", start)]


def test_the_advisor_leads_to_it(client):
    html = client.get("/advisor?acts_for_user=yes&runs_on=device&needs_refresh=no")
    assert f'href="/run/{FLOW}">Run it in the sandbox</a>' in html.get_data(
        as_text=True)
