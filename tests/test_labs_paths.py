"""Attack labs off the happy path, over HTTP: a learner who signs in anyway,
cancels, goes back or reloads gets a verdict that is right or "not decided yet",
never one the wire does not show (every lab, both variants)."""

from __future__ import annotations

import html
import re

import pytest
import requests

from flowlab.serving import stop
from flowlab.web import attacker
from tests.conftest import LiveServer
from tests.conftest import make_app
from tests.labs_helpers import decide
from tests.labs_helpers import form_token
from tests.labs_helpers import run_of
from tests.labs_helpers import sign_in
from tests.labs_helpers import start
from tests.labs_helpers import verdict

VARIANTS = ["vulnerable", "defended"]
BAIT = re.compile(r'id="bait" href="([^"]+)"')
DECIDED = {"vulnerable": "succeeded", "defended": "failed"}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs-paths")))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


def bait(url: str) -> str:
    """The link on the attacker's page, made absolute."""
    link = html.unescape(BAIT.search(requests.get(url).text).group(1))
    return link if link.startswith("http") else url.split("/labs/", 1)[0] + link


# Labs whose sign-in is a step: a cancel decides nothing; signing in afterwards
# decides only where the sign-in itself is the attack.
SIGN_IN_IS_THE_ATTACK = {"code-interception": True, "mix-up": True,
                         "code-injection": False, "code-replay": False,
                         "refresh-replay": False, "implicit-leak": False}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lab", sorted(SIGN_IN_IS_THE_ATTACK))
def test_cancelling_at_the_sandbox_decides_nothing(lab_server, lab, variant):
    victim = requests.Session()
    start(victim, lab_server, lab, variant)
    cancelled = sign_in(victim, lab_server, lab, variant, "bob", decision="cancel")
    assert "error=access_denied" in "".join(
        hop.headers.get("Location", "") for hop in cancelled.history)
    assert verdict(victim, lab_server, lab, variant) == "undecided"
    sign_in(victim, lab_server, lab, variant, "bob")  # then as the step says
    expected = DECIDED[variant] if SIGN_IN_IS_THE_ATTACK[lab] else "undecided"
    assert verdict(victim, lab_server, lab, variant) == expected


@pytest.mark.parametrize("variant", VARIANTS)
def test_code_injection_signing_in_as_alice_is_no_attack(lab_server, variant):
    """The learner finishes the sandbox sign-in as Alice instead of stopping: the
    client gets Alice's account, but through no stolen code."""
    browser = requests.Session()
    attacker_page = start(browser, lab_server, "code-injection", variant)
    sign_in(browser, lab_server, "code-injection", variant, "alice")
    run = run_of(lab_server, attacker_page)
    assert run.client["linked"] == "Alice Lindqvist"
    assert verdict(browser, lab_server, "code-injection", variant) == "undecided"
    page = requests.get(attacker_page).text
    assert "Nothing to steal yet" in page and "stop on the sandbox" in page
    # Going back to the step as written still plays the attack to its verdict.
    browser.get(lab_server(f"/labs/code-injection/{variant}/login"))
    link = bait(attacker_page)
    browser.get(link)
    assert verdict(browser, lab_server, "code-injection", variant) == DECIDED[variant]
    browser.get(link)  # reloaded: the state is spent, nothing changes
    assert verdict(browser, lab_server, "code-injection", variant) == DECIDED[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_code_injection_stale_link_after_going_back(lab_server, variant):
    """The attacker's link names a sign-in the learner then restarted: refused for
    its state, which says nothing about PKCE."""
    browser = requests.Session()
    attacker_page = start(browser, lab_server, "code-injection", variant)
    browser.get(lab_server(f"/labs/code-injection/{variant}/login"))
    stale = bait(attacker_page)
    browser.get(lab_server(f"/labs/code-injection/{variant}/login"))
    page = browser.get(stale)
    assert 'id="refused"' in page.text
    assert verdict(browser, lab_server, "code-injection", variant) == "undecided"
    browser.get(lab_server(f"/labs/code-injection/{variant}/login"))  # once more
    browser.get(bait(attacker_page))
    assert verdict(browser, lab_server, "code-injection", variant) == DECIDED[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_csrf_state_own_sign_in_is_no_attack(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "csrf-state", variant)
    sign_in(victim, lab_server, "csrf-state", variant, "alice")
    assert verdict(victim, lab_server, "csrf-state", variant) == "undecided"
    link = bait(attacker_page)
    victim.get(link)
    assert verdict(victim, lab_server, "csrf-state", variant) == DECIDED[variant]
    victim.get(link)  # reloaded: the code is spent, the verdict stands
    assert verdict(victim, lab_server, "csrf-state", variant) == DECIDED[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_redirect_uri_stopping_or_cancelling(lab_server, variant):
    """Following the bait decides only once the server answered the crafted
    request: an error page (defended), or a code at the attacker (vulnerable)."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "redirect-uri", variant)
    assert verdict(victim, lab_server, "redirect-uri", variant) == "undecided"
    page = victim.get(bait(attacker_page))  # stopped at the sign-in page
    if variant == "defended":
        assert page.status_code == 400
        assert verdict(victim, lab_server, "redirect-uri", variant) == "failed"
        return
    assert verdict(victim, lab_server, "redirect-uri", variant) == "undecided"
    decide(victim, lab_server, page, "bob", "cancel")
    assert verdict(victim, lab_server, "redirect-uri", variant) == "undecided"
    page = victim.get(bait(attacker_page))  # the bait again, now to the end
    decide(victim, lab_server, page, "bob")
    assert verdict(victim, lab_server, "redirect-uri", variant) == "succeeded"


@pytest.mark.parametrize("variant", VARIANTS)
def test_implicit_leak_page_opened_before_signing_in(lab_server, variant):
    """The player page, opened before any sign-in, reports an empty address: that
    is no defence at work. What the analytics script would send is sent by hand
    (no script runs over HTTP)."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "implicit-leak", variant)
    player = lab_server(f"/labs/implicit-leak/{variant}/callback")
    victim.get(player)
    collect = attacker_page + "/as/collect"
    requests.get(collect, params={"u": player})
    assert verdict(victim, lab_server, "implicit-leak", variant) == "undecided"
    landed = sign_in(victim, lab_server, "implicit-leak", variant, "alice")
    reported = next(hop.headers["Location"] for hop in landed.history
                    if "/callback" in hop.headers.get("Location", ""))
    requests.get(collect, params={"u": landed.url if variant == "defended"
                                  else reported})
    assert verdict(victim, lab_server, "implicit-leak", variant) == DECIDED[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_mix_up_reloaded_callback_keeps_the_verdict(lab_server, variant):
    victim = requests.Session()
    start(victim, lab_server, "mix-up", variant)
    landed = sign_in(victim, lab_server, "mix-up", variant, "alice")
    callback = next(hop.headers["Location"] for hop in landed.history
                    if "/callback?" in hop.headers.get("Location", ""))
    assert verdict(victim, lab_server, "mix-up", variant) == DECIDED[variant]
    victim.get(callback)
    assert verdict(victim, lab_server, "mix-up", variant) == DECIDED[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_refresh_replay_signing_in_again_is_another_grant(lab_server, variant):
    """After the theft the app signs in again: its new refresh token is not the
    stolen one, so its refresh says nothing about reuse."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "refresh-replay", variant)
    signed_in = sign_in(victim, lab_server, "refresh-replay", variant, "alice")
    thief = requests.Session()
    thief.post(attacker_page, data={"csrf_token": form_token(thief.get(
        attacker_page))})
    sign_in(victim, lab_server, "refresh-replay", variant, "alice")
    victim.post(lab_server(f"/labs/refresh-replay/{variant}/recheck"),
                data={"csrf_token": form_token(signed_in)})
    run = run_of(lab_server, attacker_page)
    assert run.entries("refresh") and run.entries("attacker-check")
    assert verdict(victim, lab_server, "refresh-replay", variant) == "undecided"


@pytest.mark.parametrize("variant", VARIANTS)
def test_code_replay_before_any_sign_in(lab_server, variant):
    """The attacker's page before the client logged anything: nothing to replay,
    and no verdict."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "code-replay", variant)
    loot = requests.get(attacker_page)
    assert "Nothing to steal yet" in loot.text and "csrf_token" not in loot.text
    assert verdict(victim, lab_server, "code-replay", variant) == "undecided"



def _recheck_notice(victim, lab_server, lab: str, variant: str) -> str:
    page = victim.get(lab_server(f"/labs/{lab}/{variant}"))
    answer = victim.post(lab_server(f"/labs/{lab}/{variant}/recheck"),
                         data={"csrf_token": form_token(page)})
    notice = re.search(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', answer.text, re.S)
    return html.unescape(notice.group(1)) if notice else ""


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lab", ["refresh-replay", "code-replay"])
def test_a_recheck_before_signing_in_says_why_nothing_was_sent(lab_server, lab,
                                                                variant):
    """The last step's button pressed first sends nothing, and the page says what
    is missing instead of coming back unchanged."""
    victim = requests.Session()
    attacker_page = start(victim, lab_server, lab, variant)
    notice = _recheck_notice(victim, lab_server, lab, variant)
    assert "Nothing was sent" in notice and "sign in" in notice.lower()
    run = run_of(lab_server, attacker_page)
    assert not run.entries("refresh") and not run.entries("recheck")
    assert verdict(victim, lab_server, lab, variant) == "undecided"


@pytest.mark.parametrize("variant", VARIANTS)
def test_refresh_replay_refreshing_before_the_theft_says_why(lab_server, variant):
    victim = requests.Session()
    attacker_page = start(victim, lab_server, "refresh-replay", variant)
    sign_in(victim, lab_server, "refresh-replay", variant, "alice")
    notice = _recheck_notice(victim, lab_server, "refresh-replay", variant)
    assert "Nothing was sent" in notice and "attacker" in notice
    assert not run_of(lab_server, attacker_page).entries("refresh")
    assert verdict(victim, lab_server, "refresh-replay", variant) == "undecided"
