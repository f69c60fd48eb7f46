"""The token exchange flow in the live runner (RFC 8693): after a sign-in at the
sandbox's best-practice issuer (authorization code + PKCE, the token good for two
resources, RFC 8707), the app exchanges its access token for a narrower one (one
audience, fewer scopes), calls the API with it, and sees a call it is not good for
refused. Where the issuer has no token exchange, the flow's page says so.

The runner plays the app over HTTP; the test plays the learner. What went over the
wire is checked on the sandbox's side (``WireRecorder``), and the page against it.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flowlab.core.demo import demo_apps
from tests.flowrunner import FlowRunner
from tests.flowrunner import wire_text
from tests.independent import claims_of
from tests.test_runner_mcp import Recorder

FLOW = "token-exchange"
STEPS = 7
BEST = "/sandbox/best-practice"
GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
OTHER = "https://reports.example.com/api"


@pytest.fixture
def lab(serve):
    server = serve()
    server.recorder = server.app.wsgi_app = Recorder(server.app.wsgi_app)
    return server


def _best_practice(server) -> FlowRunner:
    runner = FlowRunner(server)
    runner.use_provider("Use the sandbox (best practice)")
    return runner.start(FLOW)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())





def test_the_app_exchanges_its_token_for_a_narrower_one(lab):
    runner = _best_practice(lab)
    seen = lab.recorder.seen
    back = (lab.app.config.get("SANDBOX_BACKCHANNEL_URL") or lab.url).rstrip("/")
    api = back + BEST + "/v1"
    client_id = demo_apps(lab.app.config)[0].client_id

    runner.next()  # 1: the authorization URL, PKCE and two resources
    query = parse_qs(urlsplit(runner.next_link()).query)
    assert query["resource"] == [api, OTHER]
    assert query["code_challenge_method"] == ["S256"]
    runner.authorize()  # 2, 3: Continue as Alice, Agree, back with a code

    runner.next()  # 4: the code redeemed: the subject token, for both resources
    redeemed = [s for s in seen if s["line"] == f"POST {BEST}/api/token"][-1]
    assert parse_qs(redeemed["body"])["grant_type"] == ["authorization_code"]

    page = runner.next()  # 5: the token exchange
    sent = [s for s in seen if s["line"] == f"POST {BEST}/api/token"][-1]
    form = parse_qs(sent["body"])
    assert form["grant_type"] == [GRANT]
    assert form["subject_token_type"] == [ACCESS_TOKEN]
    assert form["resource"] == [api]
    assert form["scope"] == ["user-read-private user-read-email"]
    assert sent["headers"]["authorization"].startswith("Basic ")  # §2.1
    subject = claims_of(form["subject_token"][0])
    assert sorted(subject["aud"]) == sorted([api, OTHER])
    assert "playlist-read-private" in subject["scope"]
    shown = wire_text(page.text)
    assert f'"issued_token_type": "{ACCESS_TOKEN}"' in shown
    assert f'"aud": "{api}"' in shown
    assert '"act": {' in shown and f'"sub": "{client_id}"' in shown
    assert "RFC 8693 §2.2.1" in _text(page.text)
    assert "RFC 8693 §4.1" in _text(page.text)

    page = runner.next()  # 6: the API with the exchanged token
    call = seen[-1]
    assert call["line"] == f"GET {BEST}/v1/me"
    issued = claims_of(call["headers"]["authorization"].removeprefix("Bearer "))
    assert issued["aud"] == api and issued["act"] == {"sub": client_id}
    assert issued["sub"] == subject["sub"]
    assert issued["scope"] == "user-read-private user-read-email"
    assert re.search(r"HTTP/1\.1\s*200", wire_text(page.text))

    page = runner.next()  # 7: a call the narrower token is not good for
    refused = seen[-1]
    assert refused["line"] == f"GET {BEST}/v1/me/playlists"
    assert refused["headers"]["authorization"] == call["headers"]["authorization"]
    assert re.search(r"HTTP/1\.1\s*403", wire_text(page.text))
    assert runner.statuses() == ["done"] * STEPS
    assert "That is the whole flow." in page.text
    assert "Traceback" not in page.text


def test_every_part_is_annotated_cited_and_exported(live_server):
    runner = _best_practice(live_server)
    page = runner.run_all()
    assert runner.statuses() == ["done"] * STEPS, _text(page.text)[-2000:]
    missing = []
    for number in range(1, STEPS + 1):
        page = runner.get(f"{runner.run_url}?step={number}")
        missing += re.findall(r'<tr class="unannotated">\s*<th[^>]*>.*?<code>([^<]+)',
                              page.text, re.S)
    assert missing == [], f"parts without annotation {missing}"
    # Both tokens are secrets: masked on the page, however they are sent.
    exchange = wire_text(runner.get(f"{runner.run_url}?step=5").text)
    assert "subject_token" in exchange and '"access_token": "eyJh…' in exchange
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.", exchange)
    # The replays send the token held at that moment as the subject token, and
    # call with the one the exchange gave (RFC 8693 §2.1, §2.2.1).
    script = runner.get(runner.run_url + "/export.sh").text
    assert f"grant_type={GRANT}" in script
    assert 'subject_token="${ACCESS_TOKEN}"' in script
    assert f"subject_token_type={ACCESS_TOKEN}" in script
    assert "resource%3D" not in script and "&resource=https%3A%2F%2Freports" in script
    http = runner.get(runner.run_url + "/export.http").text
    assert "&subject_token={{step_4.response.body.$.access_token}}&" in http
    assert "Bearer {{step_5.response.body.$.access_token}}" in http
    start = _text(runner.get(live_server("/run/token-exchange")).text)
    for cited in ("RFC 8693", "RFC 8707", "act"):
        assert cited in start, cited
    lesson = runner.get(live_server("/lessons/token-exchange"))
    assert lesson.status_code == 200
    for cited in ("RFC 8693 §2.1", "§2.2.1", "§4.1", "subject_token", "act",
                  "invalid_target"):
        assert cited in _text(lesson.text), cited
    assert 'href="/run/token-exchange"' in lesson.text


@pytest.mark.parametrize("button", ["Use the sandbox", "Use the sandbox (FAPI 2.0)"])
def test_not_offered_where_the_issuer_has_no_token_exchange(live_server, button):
    """Spotify today and the FAPI 2.0 issuer list no token exchange grant in their
    metadata (RFC 8414 §2): the flow's page says so and offers no start."""
    runner = FlowRunner(live_server)
    runner.use_provider(button)
    page = runner.get(live_server("/run/token-exchange"))
    assert page.status_code == 200
    assert "Start the run" not in page.text
    shown = _text(page.text)
    assert "cannot run against" in shown and "token exchange (RFC 8693)" in shown
    assert "best-practice issuer" in shown
    listed = runner.get(live_server("/run/")).text
    assert 'href="/run/token-exchange"' in listed


def test_a_provider_found_by_discovery_needs_the_grant_in_its_metadata():
    from pathlib import Path

    from flowlab.core import providers
    from flowlab.core.content import Content
    from flowlab.core.runner.flows import load_flows

    content = Content(Path(__file__).resolve().parents[1] / "content")
    flow = [load_flows(content)[FLOW]]
    reasons = content.data("providers")["reasons"]
    base = providers.manual("https://as.example", "https://as.example/authorize",
                            "https://as.example/token", "", ("app", "app"), "",
                            hosts=providers.LabHosts())
    from dataclasses import replace
    without = replace(base, grant_types=("authorization_code", "refresh_token"),
                      pkce_methods=("S256",))
    with_it = replace(without, grant_types=(*without.grant_types, GRANT))
    assert "token exchange (RFC 8693)" in providers.offered(
        without, True, reasons, flow)[FLOW]
    assert providers.offered(with_it, True, reasons, flow) == {FLOW: None}


def test_the_advisor_leads_a_delegating_service_here(live_server):
    import requests

    page = requests.get(live_server("/advisor?acts_for_user=yes&runs_on=server"
                                    "&needs_refresh=no&goal=delegate"), timeout=10)
    section = page.text[page.text.index('id="goal-title"'):]
    assert "token exchange" in _text(section).lower()
    assert 'href="/run/token-exchange"' in section
    assert 'href="/lessons/token-exchange"' in section


def test_the_wrap_up_introspects_and_revokes_the_exchanged_token(live_server):
    """The token the run ends with is the exchanged one: introspected (RFC 7662
    §2.2: active, its audience the one API), revoked (RFC 7009), then refused."""
    from tests.forms import submit

    runner = _best_practice(live_server)
    page = runner.run_all()
    runner.follow(submit(runner.session, page, "Introspect and revoke"))
    page = runner.run_all()
    assert runner.statuses() == ["done"] * (STEPS + 3), _text(page.text)[-1500:]
    introspected = wire_text(runner.get(f"{runner.run_url}?step={STEPS + 1}").text)
    assert '"active": true' in introspected
    assert re.search(r'"aud": "[^"]*/sandbox/best-practice/v1"', introspected)
    assert "reports.example.com" not in introspected
    refused = wire_text(runner.get(f"{runner.run_url}?step={STEPS + 3}").text)
    assert "GET /sandbox/best-practice/v1/me" in refused
    assert re.search(r"HTTP/1\.1\s*401", refused)


@pytest.mark.parametrize(("label", "name"), [("Spotify today", "Sandbox provider"),
                                             ("FAPI 2.0", "Sandbox (FAPI 2.0)")])
def test_run_again_under_an_issuer_without_it_says_why(live_server, label, name):
    """"Run this again under …" offers every issuer; under one that lists no token
    exchange grant, the flow's page says so and starts nothing."""
    from urllib.parse import urljoin

    from tests.forms import submit

    runner = _best_practice(live_server)
    page = runner.run_all()
    again = submit(runner.session, page, f"Run this again under {label}")
    assert again.status_code == 307  # the browser posts the same form to start
    page = runner.follow(runner.session.post(
        urljoin(again.url, again.headers["Location"]), data=again.request.body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False, timeout=10))
    shown = _text(page.text)
    assert f"cannot run against {name}" in shown, shown[-1500:]
    assert "token exchange (RFC 8693)" in shown
    assert "Traceback" not in page.text and "/runs/" not in page.url


def test_its_authorization_url_compares_with_another_flows(live_server):
    """Compare with…: the first step shows the authorization URL moment, so beside
    a PKCE run's it shows the two resource parameters only this flow sends."""
    from tests.test_compare import _compare
    from tests.test_compare import _rows

    runner = _best_practice(live_server)
    runner.run_all()
    mine = runner.run_url.rsplit("/", 1)[1]
    other = runner.start("authorization-code-pkce")
    other.run_all()
    theirs = other.run_url.rsplit("/", 1)[1]
    html = _compare(runner.session, live_server, run=mine, step=1, other=theirs)
    assert "the authorization URL" in _text(html)
    rows = _rows(html)
    resource = next(row for key, row in rows.items() if key.endswith(" resource"))
    assert resource[0].startswith("only")
