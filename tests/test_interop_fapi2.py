"""The FAPI 2.0 flow against a server nobody here wrote: oidc-provider 9.13.3, found
by discovery, with open registration (tests/oidc/server.mjs), PAR and DPoP on. The
run registers its own private_key_jwt client, pushes, signs in on the provider's
own forms, and gets DPoP-bound tokens; it has no API to call there, so that step is
left out, as for every flow run at a provider without an API base URL."""

from __future__ import annotations

import json

import pytest

from tests.flowrunner import FlowRunner
from tests.test_interop import check_exports
from tests.test_interop import run_all
from tests.test_interop import step
from tests.test_interop import text_of
from tests.test_interop import use_oidc

pytestmark = pytest.mark.interop


def test_the_fapi2_flow_against_oidc_provider(live_server, oidc_server):
    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server, scope="openid offline_access")
    runner.start("fapi2")
    page = run_all(runner)
    assert "That is the whole flow." in page.text, text_of(page.text)[-3000:]
    data = runner.session.get(runner.run_url + "/export.json", timeout=10).json()
    wire = {s["id"]: s.get("exchanges", []) for s in data["steps"]}
    assert "call-api" not in wire
    assert wire["register"][-1]["response"]["start_line"].split()[1] == "201"
    assert wire["par"][-1]["response"]["start_line"].split()[1] == "201"
    token = json.loads(wire["token"][-1]["response"]["body"])
    assert token["token_type"] == "DPoP"
    refreshed = wire["refresh"][-1]["response"]
    assert refreshed["start_line"].split()[1] == "200"
    assert json.loads(refreshed["body"])["token_type"] == "DPoP"
    assert "The DPoP proof, decoded (RFC 9449 §4.2)" in text_of(step(runner, 5))
    check_exports(runner)
