"""Issue 22 §5, from the inspector into the lab: a pasted message with an
equivalent in the runner offers "Run this in the lab" (the flow that sends the
same kind of request to the sandbox) and the attack labs its findings open; every
message of a runner step offers "Inspect this message", read from the run on the
server, so no secret rides in a URL."""

from __future__ import annotations

import re
import tomllib
from html import unescape
from pathlib import Path
from urllib.parse import urlencode
from urllib.parse import urljoin

import pytest
import requests

from flowlab.labs.catalogue import load
from tests.flowrunner import FlowRunner
from tests.forms import submit

ROOT = Path(__file__).resolve().parents[1]
AUTHORIZE = "https://accounts.example.com/authorize?"
INSPECT_LINK = re.compile(r'<a class="inspect-link" id="([\w-]+)" href="([^"]+)"')


def inspected(server, text: str, session: requests.Session | None = None) -> str:
    """The inspector page's answer to a pasted text, sent as its form sends it."""
    session = session or requests.Session()
    form = session.get(server("/inspect"), timeout=10)
    answer = submit(session, form, "Inspect", input=text)
    assert answer.status_code == 200
    return answer.text


def run_in_lab(page: str) -> str | None:
    found = re.search(r'<a [^>]*id="run-in-lab" href="([^"]+)">([^<]+)</a>', page)
    return f"{found[1]} {unescape(found[2])}" if found else None


def lab_links(page: str) -> list[str]:
    section = page.split('id="inspect-lab-h"', 1)[-1].split("</section>", 1)[0]
    return re.findall(r'<a href="/labs/([a-z0-9-]+)">', section)


def test_every_equivalent_is_a_flow_and_every_named_lab_a_lab(live_server):
    flows = {p.stem for p in (ROOT / "content" / "flows").glob("*.toml")}
    equivalents = tomllib.loads((ROOT / "content/inspect/lab.toml").read_text())
    assert {e["flow"] for e in equivalents["flow"]} <= flows
    rules = tomllib.loads((ROOT / "content/inspect/rules.toml").read_text())["rule"]
    labs = set(load(ROOT / "content" / "labs"))
    assert {r["lab"] for r in rules if "lab" in r} <= labs


@pytest.mark.parametrize(("pasted", "flow"), [
    (AUTHORIZE + urlencode({"response_type": "code", "client_id": "app",
                            "redirect_uri": "https://app.example/cb", "state": "s1",
                            "code_challenge": "x" * 43,
                            "code_challenge_method": "S256"}),
     "/run/authorization-code-pkce Run this in the lab: Authorization code with PKCE"),
    (AUTHORIZE + urlencode({"response_type": "token", "client_id": "app",
                            "redirect_uri": "https://app.example/cb"}),
     "/run/implicit Run this in the lab: Implicit grant"),
    ("curl -X POST https://accounts.example.com/api/token -d grant_type="
     "client_credentials -u app:secret",
     "/run/client-credentials Run this in the lab: Client credentials"),
    ('{"access_token": "abc", "token_type": "Bearer", "id_token": "x.y.z"}',
     "/run/sign-in-oidc Run this in the lab: Sign in with OpenID Connect"),
    ('Bearer resource_metadata="https://mcp.example/.well-known/'
     'oauth-protected-resource"', "/run/mcp Run this in the lab: "),
])
def test_a_pasted_message_with_an_equivalent_runs_in_the_lab(live_server, pasted,
                                                              flow):
    page = inspected(live_server, pasted)
    found = run_in_lab(page)
    assert found is not None and found.startswith(flow), found
    href = found.split()[0]
    assert requests.get(live_server(href), timeout=10).status_code == 200


def test_no_equivalent_no_offer(live_server):
    page = inspected(live_server, "hello, this is not OAuth")
    assert run_in_lab(page) is None and 'id="inspect-lab-h"' not in page


def test_findings_link_the_labs_that_show_their_attacks(live_server):
    weak = AUTHORIZE + urlencode({"response_type": "code", "client_id": "app",
                                  "redirect_uri": "https://app.example/cb"})
    page = inspected(live_server, weak)
    assert lab_links(page)[:2] == ["code-interception", "csrf-state"]  # high first
    for lab_id in lab_links(page):
        assert requests.get(live_server(f"/labs/{lab_id}"), timeout=10).ok


def test_every_step_message_can_be_inspected(live_server):
    runner = FlowRunner(live_server).start("authorization-code-pkce")
    runner.run_all()
    seen = {}
    for number in range(1, runner.step_count() + 1):
        page = runner.get(f"{runner.run_url}?step={number}")
        messages = page.text.count('class="message message-')
        links = INSPECT_LINK.findall(page.text)
        assert len([i for i, _ in links if i != "url-inspect"]) == messages
        for _, href in links:
            answer = runner.get(urljoin(page.url, unescape(href)))
            assert answer.status_code == 200
            assert f"of step {number}" in answer.text
            kind = re.search(r'<code class="inspect-kind">(\w+)</code>', answer.text)[1]
            seen.setdefault(kind, answer.text)
    assert {"authorization_request", "authorization_response", "token_request",
            "token_response"} <= set(seen)
    token_answer = seen["token_response"]
    assert "Back to step" in token_answer and "Run this in the lab" in token_answer
    # Tokens are masked in the answer as the runner masks them.
    access = re.search(r'"access_token":\s*"([^"]+)"', runner.page.text)
    assert access is None or access[1] not in token_answer


def test_another_browser_cannot_inspect_a_runs_message(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.run_all()
    href = unescape(INSPECT_LINK.findall(runner.page.text)[0][1])
    assert runner.get(urljoin(runner.page.url, href)).status_code == 200
    stranger = requests.get(urljoin(runner.page.url, href), timeout=10)
    assert stranger.status_code == 404
    missing = runner.get(urljoin(runner.page.url, re.sub(r"/\d+$", "/99", href)))
    assert missing.status_code == 404
