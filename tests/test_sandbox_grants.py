"""Grants per registered app (RFC 7591 §2): ``flask sandbox add-client --grant``,
and each endpoint refusing a grant the app was not registered for with
``unauthorized_client`` (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.1)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
KNOWN = ("authorization_code, refresh_token, client_credentials, "
         f"{DEVICE_GRANT}, implicit")


def add_client(server, *args: str):
    """``flask sandbox add-client`` against the served app's database."""
    runner = server.app.test_cli_runner()
    return runner.invoke(args=["sandbox", "add-client", "--name", "Test app", *args])


def registered(server, *args: str) -> dict:
    """The JSON object the command prints, and nothing else on stdout or stderr."""
    result = add_client(server, *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def auth(app: dict) -> dict:
    return basic(app["client_id"], app["client_secret"])


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def test_cli_registers_the_grants_asked(live_server):
    tv = registered(live_server, "--public", "--grant", DEVICE_GRANT)
    assert tv["grant_types"] == [DEVICE_GRANT] and tv["redirect_uris"] == []
    assert "client_secret" not in tv
    both = registered(live_server, "--public", "--grant", DEVICE_GRANT,
                      "--grant", "refresh_token", "--grant", DEVICE_GRANT,
                      "--redirect-uri", CALLBACK)
    assert both["grant_types"] == [DEVICE_GRANT, "refresh_token"]
    assert both["redirect_uris"] == [CALLBACK]
    web = registered(live_server, "--redirect-uri", CALLBACK)
    assert web["grant_types"] == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize("args, message", [
    (["--grant", "device_code"],
     f"Unknown grant type “device_code”. Use one of: {KNOWN}."),
    (["--grant", "password", "--redirect-uri", CALLBACK],
     "Unknown grant type “password”"),
    (["--public", "--grant", "client_credentials"],
     "Only confidential apps may use client credentials"),
    (["--grant", "implicit", "--redirect-uri", CALLBACK],
     "Only public apps may use the implicit grant"),
    (["--grant", "refresh_token"],
     "A refresh token comes from the authorization code or the device grant"),
    ([], "Add at least one redirect URI"),
])
def test_cli_refusals_go_to_stderr(live_server, args, message):
    result = add_client(live_server, *args)
    assert result.exit_code != 0 and result.stdout == ""
    assert message in result.stderr


def test_device_endpoint_answers_by_the_apps_grants(live_server):
    endpoint = live_server("/sandbox/api/device")
    tv = registered(live_server, "--public", "--grant", DEVICE_GRANT)
    confidential_tv = registered(live_server, "--grant", DEVICE_GRANT)
    for data, headers in (({"client_id": tv["client_id"]}, {}),
                          ({"scope": ""}, auth(confidential_tv))):  # §3.1: Basic
        started = requests.post(endpoint, data=data, headers=headers, timeout=10)
        assert started.status_code == 200, started.text
        assert started.json()["user_code"]
    public = registered(live_server, "--public", "--redirect-uri", CALLBACK)
    web = registered(live_server, "--redirect-uri", CALLBACK,
                     "--grant", "client_credentials", "--grant", "authorization_code")
    for data, headers in (({"client_id": public["client_id"]}, {}),
                          ({"scope": ""}, auth(web))):
        refused = requests.post(endpoint, data=data, headers=headers, timeout=10)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "unauthorized_client"


# Each token grant, an app registered without it, and the rest of its request.
TOKEN_GRANTS = [
    ("authorization_code", ["--grant", "client_credentials"],
     {"code": "x" * 43, "redirect_uri": CALLBACK}),
    ("refresh_token", ["--grant", "authorization_code", "--redirect-uri", CALLBACK],
     {"refresh_token": "x" * 43}),
    ("client_credentials", ["--redirect-uri", CALLBACK], {}),
    (DEVICE_GRANT, ["--redirect-uri", CALLBACK], {"device_code": "x" * 43}),
]


@pytest.mark.parametrize("grant, without, rest", TOKEN_GRANTS)
def test_token_endpoint_refuses_grants_the_app_lacks(sandbox, live_server, grant,
                                                     without, rest):
    lacking = registered(live_server, *without)
    refused = sandbox.token({"grant_type": grant, **rest}, auth(lacking))
    assert refused.status_code == 400, refused.text
    assert refused.json() == {"error": "unauthorized_client",
                              "error_description": f"This app may not use {grant}"}
    having = registered(live_server, "--grant", grant, "--grant",
                        "authorization_code", "--redirect-uri", CALLBACK)
    answered = sandbox.token({"grant_type": grant, **rest}, auth(having))
    assert answered.json().get("error") != "unauthorized_client", answered.text


def test_a_refresh_token_only_for_apps_with_the_refresh_grant(sandbox, live_server):
    for args, refreshable in ((["--grant", "authorization_code"], False), ([], True)):
        app = registered(live_server, "--redirect-uri", CALLBACK, *args)
        code = sandbox.code(SimpleNamespace(client_id=app["client_id"]))
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": CALLBACK}
        tokens = sandbox.token(data, auth(app))
        assert tokens.status_code == 200, tokens.text
        assert ("refresh_token" in tokens.json()) is refreshable


def test_authorization_endpoint_refuses_an_app_without_the_code_grant(
        sandbox, live_server):
    tv = registered(live_server, "--public", "--grant", DEVICE_GRANT,
                    "--redirect-uri", CALLBACK)
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": tv["client_id"],
              "redirect_uri": CALLBACK, "state": "st-1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = sandbox.authorize(params, decision=None)
    assert "an app you have not approved" in " ".join(page.text.split())
    sent = sandbox.submit(page, {"decision": "continue"})
    assert query(sent.headers["Location"]) == {
        "error": "unauthorized_client", "state": "st-1", "iss": sandbox.issuer,
        "error_description": "This app may not use authorization_code"}
