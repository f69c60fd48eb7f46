"""The MCP flow against servers nobody here wrote: oidc-provider 9.13.3 as the
authorization server, found by discovery, and beside it a small MCP server
(``tests/oidc/mcp-server.mjs``) that answers 401 with ``resource_metadata``,
publishes RFC 9728 metadata naming oidc-provider, and checks each access token
against oidc-provider's JWKS, its ``aud`` against itself.

The lab is set up as any user would: "Any OAuth 2.0 or OpenID provider", the
provider's discovery URL, and the MCP server's URL as the API base URL. The wire
is read on both sides: the run's export (what the lab sent and got) and the MCP
server's log (what it answered, and why).
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from flowlab.core.runner.wellknown import server_metadata_urls
from tests.flowrunner import FlowRunner
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB
from tests.test_interop import check_exports
from tests.test_interop import run_all
from tests.test_interop import step
from tests.test_interop import text_of

pytestmark = pytest.mark.interop
SCOPE = "mcp:tools"
OTHER = "https://mcp.example.com/tools"  # the flow's second MCP server
PRM = "/.well-known/oauth-protected-resource"


def use_mcp(runner, issuer: str, resource: str) -> None:
    """The provider by its discovery URL, the MCP server as the API base URL."""
    page = runner.use_provider(
        "Use this provider", discovery_url=issuer + "/.well-known/openid-configuration",
        api_base=resource, client_id=WEB[0], client_secret=WEB[1],
        public_client_id=SPA[0], scope=SCOPE)
    assert f"Now: Provider at {issuer}" in text_of(page.text), page.text[-2000:]


def mcp_log(oidc, resource: str, since: int) -> list[str]:
    """What the MCP server of ``resource`` answered since ``since`` characters of
    the log."""
    mark = f"mcp {resource.removesuffix('/mcp')} "
    return [line.removeprefix(mark) for line in oidc.output()[since:].splitlines()
            if line.startswith(mark)]


def status(exchange: dict) -> int:
    return int(exchange["response"]["start_line"].split()[1])


def test_the_mcp_flow_against_oidc_provider(live_server, oidc_server):
    runner = FlowRunner(live_server)
    resource = oidc_server.resource
    use_mcp(runner, oidc_server.issuer, resource)
    metadata_url = resource.replace("/mcp", PRM + "/mcp", 1)
    since = len(oidc_server.output())
    runner.start("mcp")
    authorize = []
    page = run_all(runner, rewrite=lambda link: authorize.append(link) or link)
    assert "That is the whole flow." in page.text, text_of(page.text)[-3000:]
    assert "run-step-failed" not in page.text, text_of(page.text)[-3000:]
    data = runner.session.get(runner.run_url + "/export.json", timeout=10).json()
    wire = {s["id"]: s.get("exchanges", []) for s in data["steps"]}

    probe = wire["probe"][-1]  # 401 with the challenge (RFC 9728 §5.1)
    assert probe["request"]["start_line"] == "GET /mcp/v1/me HTTP/1.1"
    assert status(probe) == 401
    challenge = dict(probe["response"]["headers"])["WWW-Authenticate"]
    assert challenge == f'Bearer resource_metadata="{metadata_url}"'
    document = json.loads(wire["resource-metadata"][-1]["response"]["body"])
    assert document["resource"] == resource  # RFC 9728 §2, §3.3
    assert document["authorization_servers"] == [oidc_server.issuer]
    server = wire["server-metadata"][-1]  # RFC 8414 at oidc-provider
    assert server["request"]["start_line"] == (
        "GET /.well-known/oauth-authorization-server HTTP/1.1")
    assert json.loads(server["response"]["body"])["issuer"] == oidc_server.issuer

    registration = wire["register"][-1]  # RFC 7591, a public client
    assert status(registration) == 201
    sent = json.loads(registration["request"]["body"])
    assert sent["token_endpoint_auth_method"] == "none"
    client_id = json.loads(registration["response"]["body"])["client_id"]

    [url] = authorize  # PKCE S256 and both resources (RFC 8707 §2.1)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(oidc_server.issuer + "/auth?")
    assert query["client_id"] == [client_id]
    assert query["code_challenge_method"] == ["S256"]
    assert query["resource"] == [resource, OTHER]

    token = wire["token"][-1]
    assert status(token) == 200
    assert parse_qs(token["request"]["body"])["resource"] == [resource]
    shown = text_of(step(runner, 8))
    assert f'"aud": "{resource}"' in shown and '"typ": "at+jwt"' in shown
    assert status(wire["call"][-1]) == 200
    assert json.loads(wire["call"][-1]["response"]["body"])["client_id"] == client_id
    assert parse_qs(wire["other-token"][-1]["request"]["body"])["resource"] == [OTHER]
    refused = wire["other-refused"][-1]
    assert status(refused) == 401
    assert 'error="invalid_token"' in dict(refused["response"]["headers"])[
        "WWW-Authenticate"]

    # The MCP server's side: what it answered, and why.
    assert mcp_log(oidc_server, resource, since) == [
        "GET /mcp/v1/me 401 no token",
        f"GET {PRM}/mcp 200",
        f"GET /mcp/v1/me 200 aud={resource}",
        f"GET /mcp/v1/me 401 invalid_token aud={OTHER}",
    ]
    check_exports(runner)


def test_the_agent_falls_back_to_openid_discovery(live_server, oidc_server):
    """An issuer with a path (oidc-provider mounted under /tenant) serves its
    metadata at {issuer}/.well-known/…, not at RFC 8414's path-inserted URL: the
    agent tries the URLs in the MCP spec's order (2025-11-25, "Authorization
    Server Metadata Discovery"), each on the wire, and uses the first found."""
    runner = FlowRunner(live_server)
    issuer, resource = oidc_server.tenant_issuer, oidc_server.tenant_resource
    use_mcp(runner, issuer, resource)
    since = len(oidc_server.output())
    page = run_all(runner.start("mcp"))
    assert "That is the whole flow." in page.text, text_of(page.text)[-3000:]
    assert "run-step-failed" not in page.text, text_of(page.text)[-3000:]
    data = runner.session.get(runner.run_url + "/export.json", timeout=10).json()
    wire = {s["id"]: s.get("exchanges", []) for s in data["steps"]}
    assert [(e["request"]["start_line"], status(e))
            for e in wire["server-metadata"]] == [
        ("GET /.well-known/oauth-authorization-server/tenant HTTP/1.1", 404),
        ("GET /.well-known/openid-configuration/tenant HTTP/1.1", 404),
        ("GET /tenant/.well-known/openid-configuration HTTP/1.1", 200)]
    shown = text_of(step(runner, 3))
    assert f"{issuer}/.well-known/openid-configuration" in shown
    assert f"{issuer}/auth" in shown  # the endpoints it found there
    assert wire["register"][-1]["request"]["start_line"] == "POST /tenant/reg HTTP/1.1"
    assert mcp_log(oidc_server, resource, since)[-2:] == [
        f"GET /mcp/v1/me 200 aud={resource}",
        f"GET /mcp/v1/me 401 invalid_token aud={OTHER}"]


def test_an_issuer_without_metadata_stops_the_agent(live_server, oidc_server):
    """Every URL the MCP spec has a client try answers 404: the step says so,
    each try on the wire, and the run goes no further."""
    runner = FlowRunner(live_server)
    use_mcp(runner, oidc_server.issuer, oidc_server.orphan_resource)
    runner.start("mcp").next()
    runner.next()
    page = runner.next()
    data = runner.session.get(runner.run_url + "/export.json", timeout=10).json()
    tries = data["steps"][2]["exchanges"]
    assert [(e["request"]["start_line"], status(e)) for e in tries] == [
        ("GET /.well-known/oauth-authorization-server/nowhere HTTP/1.1", 404),
        ("GET /.well-known/openid-configuration/nowhere HTTP/1.1", 404),
        ("GET /nowhere/.well-known/openid-configuration HTTP/1.1", 404)]
    shown = text_of(page.text)
    assert "None of the URLs an MCP client tries" in shown
    assert "mix-up" not in shown and 'id="next"' not in page.text


def test_without_the_mcp_servers_url_the_run_says_where_to_give_it(live_server,
                                                                   oidc_server):
    """At "any provider" the MCP server is the API base URL; without one the first
    step says so, instead of calling a URL with no host."""
    runner = FlowRunner(live_server)
    use_mcp(runner, oidc_server.issuer, "")
    page = runner.start("mcp").next()
    shown = text_of(page.text)
    assert "API base URL" in shown and "No scheme supplied" not in shown
    assert "run-step-failed" in page.text


def test_metadata_urls_in_the_mcp_order():
    """RFC 8414 §3.1 first, then OpenID Connect Discovery with the path inserted
    and, for an issuer with a path, appended (OpenID Connect Discovery §4.1)."""
    assert server_metadata_urls("https://as.example") == [
        "https://as.example/.well-known/oauth-authorization-server",
        "https://as.example/.well-known/openid-configuration"]
    assert server_metadata_urls("https://as.example/tenant/") == [
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        "https://as.example/.well-known/openid-configuration/tenant",
        "https://as.example/tenant/.well-known/openid-configuration"]


def test_the_mcp_server_checks_signature_and_audience(oidc_server):
    """The resource refuses what it cannot verify: no token, a token signed by
    another key with every claim right, and says where its metadata is each time."""
    resource = oidc_server.resource
    answer = requests.get(resource + "/v1/me", timeout=10)
    assert answer.status_code == 401
    assert "resource_metadata=" in answer.headers["WWW-Authenticate"]
    metadata = requests.get(resource.replace("/mcp", PRM + "/mcp", 1), timeout=10)
    assert metadata.json()["bearer_methods_supported"] == ["header"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode({"iss": oidc_server.issuer, "aud": resource, "sub": "mallory",
                         "client_id": "x", "iat": now, "exp": now + 60,
                         "jti": "forged-1"}, key, algorithm="RS256",
                        headers={"typ": "at+jwt", "kid": "interop-1"})
    answer = requests.get(resource + "/v1/me", timeout=10,
                          headers={"Authorization": "Bearer " + forged})
    assert answer.status_code == 401
    assert re.search(r'error="invalid_token"', answer.headers["WWW-Authenticate"])
    assert "resource_metadata=" in answer.headers["WWW-Authenticate"]
