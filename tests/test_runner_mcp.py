"""The MCP flow in the live runner: an agent walks the discovery chain of the MCP
authorization spec, a profile of RFC 9728, RFC 8414, RFC 7591, RFC 7636 and
RFC 8707, against the sandbox's best-practice issuer.

The runner plays the agent over HTTP; the test plays the learner in one browser.
What went over the wire is checked on the sandbox's side (``WireRecorder``), and
what the page shows against it.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flowlab.core.runner.wellknown import ASM
from flowlab.core.runner.wellknown import PRM as PRM_SUFFIX
from flowlab.core.runner.wellknown import challenge
from flowlab.core.runner.wellknown import identifier_of
from flowlab.core.runner.wellknown import well_known
from tests.flowrunner import FlowRunner
from tests.flowrunner import wire_text
from tests.independent import claims_of
from tests.test_runner import WireRecorder

FLOW = "mcp"
STEPS = 11
BEST = "/sandbox/best-practice"
OTHER = "https://mcp.example.com/tools"
PRM = "/.well-known/oauth-protected-resource"


class Recorder(WireRecorder):
    """``WireRecorder``, and the metadata documents at the host's well-known URIs
    (RFC 8414 §3.1, RFC 9728 §3.1), which are outside ``/sandbox/``."""

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path.startswith("/.well-known/"):
            self.seen.append({"line": f"{environ['REQUEST_METHOD']} {path}",
                              "headers": {}, "body": ""})
        return super().__call__(environ, start_response)


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
    return unescape(re.sub(r"<[^>]+>", " ", html))





def test_the_agent_walks_the_mcp_discovery_chain(lab):
    runner = _best_practice(lab)
    seen = lab.recorder.seen
    # The lab's own calls go to the sandbox's private back channel, when it has one.
    back = (lab.app.config.get("SANDBOX_BACKCHANNEL_URL") or lab.url).rstrip("/")
    api = back + BEST + "/v1"
    metadata = back + "/.well-known/oauth-protected-resource" + BEST + "/v1"

    page = runner.next()  # 1: the API without a token
    probe = seen[-1]
    assert probe["line"] == f"GET {BEST}/v1/me"
    assert "authorization" not in probe["headers"]
    shown = _text(page.text)
    assert "401" in shown and f'resource_metadata="{metadata}"' in shown
    assert "resource_metadata" in shown and "RFC 9728 §5.1" in shown

    page = runner.next()  # 2: RFC 9728 metadata
    assert seen[-1]["line"] == f"GET {PRM}{BEST}/v1"
    assert f'"resource": "{api}"' in wire_text(page.text)

    page = runner.next()  # 3: RFC 8414 metadata of the server it names
    assert seen[-1]["line"] == "GET /.well-known/oauth-authorization-server" + BEST
    assert '"registration_endpoint"' in wire_text(page.text)

    page = runner.next()  # 4: dynamic registration (RFC 7591), a public client
    sent = seen[-1]
    assert sent["line"] == f"POST {BEST}/api/register"
    body = json.loads(sent["body"])
    assert body["token_endpoint_auth_method"] == "none"
    assert body["redirect_uris"] == [lab("/run/callback")]
    assert "client_secret" not in _text(page.text)
    assert "201" in _text(page.text)
    assert "client ID metadata document" in _text(page.text)
    client_id = re.search(r'"client_id": "([^"]+)"', wire_text(page.text)).group(1)

    page = runner.next()  # 5: the authorization URL with PKCE and resource
    url = runner.next_link()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(lab(BEST + "/authorize?"))
    assert query["client_id"] == [client_id]
    assert query["code_challenge_method"] == ["S256"]
    assert query["resource"] == [api, OTHER]
    page = runner.authorize()  # 6, 7: Continue as Alice, Agree, back with a code
    assert runner.statuses() == ["done"] * 7

    page = runner.next()  # 8: the token, aud = the resource
    token_post = [s for s in seen if s["line"] == f"POST {BEST}/api/token"][-1]
    form = parse_qs(token_post["body"])
    assert form["resource"] == [api] and form["client_id"] == [client_id]
    assert "code_verifier" in form and "authorization" not in token_post["headers"]
    shown = _text(page.text)
    assert '"aud": "' + api + '"' in shown
    assert "RFC 9068" in shown

    page = runner.next()  # 9: the API call succeeds
    call = seen[-1]
    assert call["line"] == f"GET {BEST}/v1/me"
    token = call["headers"]["authorization"].removeprefix("Bearer ")
    assert claims_of(token)["aud"] == api
    assert "200" in _text(page.text)

    page = runner.next()  # 10: a token for another audience
    refresh = [s for s in seen if s["line"] == f"POST {BEST}/api/token"][-1]
    assert parse_qs(refresh["body"])["resource"] == [OTHER]
    assert '"aud": "' + OTHER + '"' in _text(page.text)

    page = runner.next()  # 11: refused by the API
    refused = seen[-1]
    assert refused["line"] == f"GET {BEST}/v1/me"
    other = refused["headers"]["authorization"].removeprefix("Bearer ")
    assert claims_of(other)["aud"] == OTHER
    shown = _text(page.text)
    assert "401" in shown and 'error="invalid_token"' in shown
    assert runner.statuses() == ["done"] * STEPS
    assert "That is the whole flow." in page.text
    assert "Traceback" not in page.text


def test_every_part_is_annotated_and_cited(live_server):
    runner = _best_practice(live_server)
    runner.run_all()
    assert runner.statuses() == ["done"] * STEPS
    every = []
    for number in range(1, STEPS + 1):
        page = runner.get(f"{runner.run_url}?step={number}")
        missing = re.findall(r'<tr class="unannotated">\s*<th[^>]*>.*?<code>([^<]+)',
                             page.text, re.S)
        every += missing
    assert every == [], f"parts without annotation {every}"
    # The curl export replays the chain, the authorization URL included, with no
    # address masked (the issuer is public, RFC 8414 §2).
    script = runner.get(runner.run_url + "/export.sh").text
    assert "/api/register" in script and "http…" not in script
    assert "resource=" in script and "code_challenge_method=S256" in script
    start = runner.get(live_server("/run/mcp"))
    shown = _text(start.text)
    for cited in ("RFC 9728", "RFC 8414", "RFC 7591", "RFC 7636", "RFC 8707",
                  "draft-ietf-oauth-client-id-metadata-document", "OAuth 2.1"):
        assert cited in shown, cited
    assert "profile" in shown


def test_the_server_names_its_issuer_whichever_sandbox_issuer_was_chosen(lab):
    """In MCP the server names its authorization server: with the Spotify-like
    issuer chosen, the agent still finds and uses the best-practice one, and checks
    the iss of the redirect against it (RFC 9207 §2.4)."""
    runner = FlowRunner(lab).start(FLOW)
    page = runner.run_all()
    assert runner.statuses() == ["done"] * STEPS
    assert "That is the whole flow." in page.text
    lines = [s["line"].split("?")[0] for s in lab.recorder.seen]
    assert f"GET {BEST}/authorize" in lines and f"POST {BEST}/api/token" in lines
    assert not any(line.startswith("GET /sandbox/authorize") for line in lines)
    # The callback step is done: the iss that came back, the best-practice issuer,
    # is the one the run expected (else it stops with iss-mismatch).
    callback = runner.get(f"{runner.run_url}?step=7")
    assert "The iss parameter did not name" not in callback.text


def test_a_challenge_reads_quoted_and_plain_parameters():
    """RFC 9110 §11.6.1: auth-params are tokens or quoted strings, with escapes."""
    value = ('Bearer error="invalid_token", error_description="a \\"quoted\\" word",'
             ' resource_metadata="https://mcp.example/.well-known/oauth-protected-'
             'resource/tools", realm=plain')
    assert challenge(value) == [
        ["scheme", "Bearer"], ["error", "invalid_token"],
        ["error_description", 'a "quoted" word'],
        ["resource_metadata",
         "https://mcp.example/.well-known/oauth-protected-resource/tools"],
        ["realm", "plain"]]


def test_well_known_urls_go_between_host_and_path():
    """RFC 8414 §3.1 and RFC 9728 §3.1; §3.3 compares with what the URL came from."""
    issuer = "https://as.example/tenant/"
    url = well_known(ASM, issuer)
    assert url == "https://as.example/.well-known/oauth-authorization-server/tenant"
    assert identifier_of(url, ASM) == "https://as.example/tenant"
    resource = well_known(PRM_SUFFIX, "https://mcp.example/tools")
    assert identifier_of(resource, PRM_SUFFIX) == "https://mcp.example/tools"
