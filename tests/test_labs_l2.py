"""Attack labs "forced-linking" and "token-injection" over HTTP: each attack
succeeds against the lab's weak configuration and fails against the defence,
judged on the captured messages; an unexpected learner path decides nothing."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import status
from tests.labs_helpers import verdict

LINK = re.compile(r'id="bait" href="([^"]+)"')


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def bait(url: str) -> str:
    """The link on the attacker's page."""
    return html.unescape(LINK.search(requests.get(url).text).group(1))


def me_of(entry) -> dict:
    return json.loads(entry.exchange.response.body)


# -- forced-linking -------------------------------------------------------------


@pytest.mark.parametrize("variant", ["vulnerable", "defended"])
def test_forced_linking(lab_server, variant):
    victim = requests.Session()  # Alice, signed in to GigBoard with her password
    attacker_page = start(victim, lab_server, "forced-linking", variant)
    run = run_of(lab_server, attacker_page)
    asked = run.entries("attacker-authorize")[0].exchange.request.start_line
    # The vulnerable linking flow sends no state at all; the defended one does.
    assert ("state=" in asked) == (variant == "defended")
    link = bait(attacker_page)
    assert link.startswith(lab_server("/labs/forced-linking/")) and "code=" in link
    page = victim.get(link)
    callback = run.entries("callback")[0].exchange.request.start_line
    assert parse_qs(urlsplit(link).query)["code"][0] in callback
    if variant == "vulnerable":
        assert status(run.entries("token")[0]) == 200
        assert me_of(run.entries("me")[0])["id"] == "bob"
        assert "Attack succeeded" in page.text and "Bob Okafor" in page.text
        # Bob signs in to GigBoard with his own sandbox account: Alice's account opens.
        loot = requests.Session()
        shown = loot.get(attacker_page)
        answer = loot.post(attacker_page, data={"csrf_token": form_token(shown)})
        assert status(run.entries("attacker-token")[0]) == 200
        assert me_of(run.entries("attacker-me")[0])["id"] == "bob"
        assert "Alice&#39;s GigBoard account" in answer.text
    else:
        assert run.entries("token") == [] and run.entries("me") == []
        assert "Attack failed" in page.text
    assert verdict(victim, lab_server, "forced-linking", variant) == (
        "succeeded" if variant == "vulnerable" else "failed")


def test_forced_linking_own_link_decides_nothing(lab_server):
    """Alice links her own sandbox account: a link, but not the attacker's; then the
    attacker's forged callback still decides the run."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "forced-linking", "vulnerable")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "forced-linking", "vulnerable", "alice")
    assert me_of(run.entries("me")[0])["id"] == "alice"
    assert verdict(victim, lab_server, "forced-linking", "vulnerable") == "undecided"
    victim.get(bait(attacker_page))
    assert verdict(victim, lab_server, "forced-linking", "vulnerable") == "succeeded"


def test_forced_linking_defended_own_linking_then_forged(lab_server):
    """Alice starts linking herself (a state waits), then follows the attacker's
    link: its state is Bob's, refused; a cancelled sign-in decides nothing."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "forced-linking", "defended")
    run = run_of(lab_server, attacker_page)
    sign_in(victim, lab_server, "forced-linking", "defended", "alice", "cancel")
    assert verdict(victim, lab_server, "forced-linking", "defended") == "undecided"
    victim.get(lab_server("/labs/forced-linking/defended/login"))  # a state waits
    victim.get(bait(attacker_page))
    assert run.entries("token") == []
    assert verdict(victim, lab_server, "forced-linking", "defended") == "failed"
