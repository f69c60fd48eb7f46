"""The MCP flow's first choice, a client ID metadata document
(draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25, "Client
Registration"): the runner serves its agent's document at a loopback URL of its
own, the agent sends that URL as its ``client_id``, and the best-practice sandbox,
whose metadata says ``client_id_metadata_document_supported``, fetches it. Where a
server does not say so, the agent falls back to dynamic registration and says why.

The runner plays the agent over HTTP; the test plays the learner. What went over the
wire is checked on the server's side (``Recorder``), the document route included.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flowlab.core.runner.clientdoc import url_beside
from tests.conftest import BACKENDS
from tests.flowrunner import FlowRunner
from tests.flowrunner import wire_text
from tests.forms import submit
from tests.independent import claims_of
from tests.test_runner_mcp import BEST
from tests.test_runner_mcp import FLOW
from tests.test_runner_mcp import OTHER
from tests.test_runner_mcp import STEPS
from tests.test_runner_mcp import Recorder
from tests.test_runner_mcp import _text

DOCUMENT = "/run/mcp/client-metadata.json"
VARIANT = {"variant": "metadata-document"}
DRAFT = "draft-ietf-oauth-client-id-metadata-document"
CONTENT = Path(__file__).resolve().parent.parent / "content"


class DocumentRecorder(Recorder):
    """``Recorder``, and every GET of the agent's document (who asked: the runner
    at its step, the sandbox when it met the URL as a ``client_id``)."""

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == DOCUMENT:
            self.seen.append({"line": f"{environ['REQUEST_METHOD']} {DOCUMENT}",
                              "headers": {}, "body": ""})
        return super().__call__(environ, start_response)


def _served(serve, **config):
    server = serve(**config)
    server.recorder = server.app.wsgi_app = DocumentRecorder(server.app.wsgi_app)
    return server


def _lines(seen: list[dict]) -> list[str]:
    return [s["line"].split("?")[0] for s in seen]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True, scope="session")
def test_the_agent_is_known_by_its_metadata_document(serve, backend):
    lab = _served(serve)
    seen = lab.recorder.seen
    back = (lab.app.config.get("SANDBOX_BACKCHANNEL_URL") or lab.url).rstrip("/")
    api = back + BEST + "/v1"
    document_url = lab(DOCUMENT)
    runner = FlowRunner(lab)
    runner.use_provider("Use the sandbox (best practice)")
    start = runner.get(lab("/run/mcp"))
    assert "client ID metadata document" in _text(start.text)
    runner.start(FLOW, **VARIANT)

    runner.next()  # 1: the API without a token
    runner.next()  # 2: RFC 9728 metadata
    page = runner.next()  # 3: RFC 8414 metadata: the server takes documents
    assert '"client_id_metadata_document_supported": true' in wire_text(page.text)

    page = runner.next()  # 4: the agent's own document, as the server will fetch it
    assert _lines(seen)[-1] == f"GET {DOCUMENT}"
    assert not any(line.endswith("/api/register") for line in _lines(seen))
    shown = wire_text(page.text)
    assert f'"client_id": "{document_url}"' in shown
    assert '"token_endpoint_auth_method": "none"' in shown
    assert DRAFT in shown and "client_id_metadata_document_supported" in shown
    assert "fallback" in shown

    runner.next()  # 5: the authorization URL names the document as client_id
    query = parse_qs(urlsplit(runner.next_link()).query)
    assert query["client_id"] == [document_url]
    assert query["redirect_uri"] == [lab("/run/callback")]
    assert query["resource"] == [api, OTHER]

    before = len(seen)
    page = runner.next()  # 6: at the sandbox: it fetches the document first
    after = _lines(seen[before:])
    assert after[:2] == [f"GET {BEST}/authorize", f"GET {DOCUMENT}"]
    if "Agree" not in page.text:
        page = runner.follow(submit(runner.session, page, "alice"))
    consent = _text(page.text)
    assert "Flow Lab agent" in consent
    assert "named by its own metadata document" in consent and document_url in consent
    runner.follow(submit(runner.session, page, "Agree"))  # 7: back with a code
    assert runner.statuses() == ["done"] * 7

    page = runner.next()  # 8: the token, for the document client, aud = resource
    token_post = [s for s in seen if s["line"] == f"POST {BEST}/api/token"][-1]
    form = parse_qs(token_post["body"])
    assert form["client_id"] == [document_url] and form["resource"] == [api]
    assert "authorization" not in token_post["headers"]
    shown = _text(page.text)  # the decoded access token
    assert f'"aud": "{api}"' in shown and f'"client_id": "{document_url}"' in shown

    page = runner.next()  # 9: the call succeeds
    call = seen[-1]
    assert call["line"] == f"GET {BEST}/v1/me"
    assert claims_of(call["headers"]["authorization"].removeprefix("Bearer "))[
        "aud"] == api
    assert "200" in _text(page.text)

    page = runner.run_all()  # 10, 11: the other audience, refused
    assert runner.statuses() == ["done"] * STEPS
    assert "That is the whole flow." in page.text
    # "Run this again under …" runs the same way.
    assert '<input type="hidden" name="variant" value="metadata-document">' in page.text
    # Every part of every step annotated, as in the registration run.
    for number in range(1, STEPS + 1):
        step = runner.get(f"{runner.run_url}?step={number}")
        assert 'class="unannotated"' not in step.text, number
    # The JSON export says which way was run, so an import finds its steps.
    export = runner.get(runner.run_url + "/export.json").json()
    assert export["options"] == VARIANT


def test_the_document_route_serves_the_agents_metadata(live_server):
    """The draft's "Client Metadata": a JSON object whose client_id is exactly the
    URL it is served at, with the RFC 7591 §2 fields the agent uses."""
    url = live_server(DOCUMENT)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {
        "client_id": url,
        "client_name": "Flow Lab agent",
        "redirect_uris": [live_server("/run/callback")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    assert "Set-Cookie" not in answer.headers  # the same document for everyone


def test_without_the_servers_word_the_agent_falls_back_to_registration(serve,
                                                                       tmp_path):
    """A server whose metadata does not say client_id_metadata_document_supported
    is never sent a document URL: the agent registers (RFC 7591) and says why."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    profiles = root / "sandbox" / "profiles.toml"
    text = profiles.read_text(encoding="utf-8")
    assert "client_id_metadata_documents = true\n" in text
    profiles.write_text(text.replace("client_id_metadata_documents = true\n", ""),
                        encoding="utf-8")
    lab = _served(serve, CONTENT_DIR=str(root))
    runner = FlowRunner(lab)
    runner.use_provider("Use the sandbox (best practice)")
    runner.start(FLOW, **VARIANT)
    for _ in range(3):
        runner.next()
    page = runner.next()  # 4: the fallback
    lines = _lines(lab.recorder.seen)
    assert lines[-1] == f"POST {BEST}/api/register"
    assert f"GET {DOCUMENT}" not in lines
    shown = " ".join(_text(page.text).split())
    assert "does not say client_id_metadata_document_supported" in shown
    assert "201" in shown
    # The diagram shows the registration that happened, not the document.
    assert "4. POST /api/register" in shown and "its own client_id URL" not in shown
    page = runner.run_all()
    assert runner.statuses() == ["done"] * STEPS
    assert "That is the whole flow." in page.text
    assert f"GET {DOCUMENT}" not in _lines(lab.recorder.seen)


@pytest.mark.parametrize(("callback", "document"), [
    ("http://127.0.0.1:5000/run/callback", "http://127.0.0.1:5000" + DOCUMENT),
    ("http://[::1]:8080/run/callback", "http://[::1]:8080" + DOCUMENT),
    ("http://localhost:5000/run/callback", None),  # a name, not an IP literal
    ("http://192.168.1.20:5000/run/callback", None),  # not fetched off loopback
    ("http://127.0.0.1:5000/run/callback/0123456789abcdef0123", None),  # not listed
])
def test_the_document_url_stands_beside_a_loopback_callback(callback, document):
    """Where the sandbox can fetch it and its redirect_uris list the run's
    callback; elsewhere the agent registers (clientdoc.url_beside)."""
    assert url_beside(callback) == document
