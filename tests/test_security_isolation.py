"""What other providers can reach: not the lab's cookies (its own host is refused),
not another API path (remembered values are encoded), not a cached secret page, and
discovery stays on its well-known path."""

from __future__ import annotations

import re
from html import unescape

import pytest

from flowlab.core import discovery
from flowlab.core import providers
from tests import standin
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner


@pytest.fixture
def fake():
    server = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    yield server
    server.close()


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize("field", ["authorize_url", "token_url", "api_base"])
def test_endpoints_on_the_labs_own_host_are_refused(live_server, field):
    """A browser would send the lab's cookies to any port of its host."""
    other_port = "http://127.0.0.1:9"
    fields = {"authorize_url": "http://127.0.0.2:9/a",
              "token_url": "http://127.0.0.2:9/t", "api_base": "",
              field: other_port + "/x", "client_id": "x", "client_secret": "y"}
    page = FlowRunner(live_server).use_provider("Use this provider", **fields)
    assert page.status_code == 400
    text = _text(page.text)
    assert "the lab's own host" in text and "127.0.0.2" in text


def test_discovery_on_the_labs_own_host_is_refused_before_fetching(live_server):
    url = live_server("/.well-known/oauth-authorization-server/sandbox")
    page = FlowRunner(live_server).use_provider("Use this provider",
                                                discovery_url=url, client_id="x")
    assert page.status_code == 400 and "the lab's own host" in _text(page.text)


def test_an_https_lab_uses_a_host_only_cookie(serve, http):
    lab = serve(PUBLIC_URL="https://lab.example")
    answer = http.get(lab("/provider"), headers={"Host": "lab.example"})
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_a_plain_http_lab_keeps_its_cookie(live_server, http):
    answer = http.get(live_server("/provider"))
    assert answer.headers["Set-Cookie"].startswith("session=")


def test_revealed_secrets_are_not_cached(live_server):
    runner = FlowRunner(live_server).start("client-credentials")
    runner.next()
    revealed = runner.get(runner.run_url + "?reveal=1")
    assert revealed.status_code == 200
    assert "no-store" in revealed.headers.get("Cache-Control", "")


def test_remembered_values_stay_one_path_segment(serve, fake):
    fake.app.artist_id = "../../v1/me?x=1#y"
    lab = serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id="0123456789abcdef", client_secret="s")
    runner.start("client-credentials").run_all()
    raws = [seen["raw"] for seen in fake.app.seen]
    assert "/v1/artists/..%2F..%2Fv1%2Fme%3Fx%3D1%23y" in raws
    assert "/v1/me?x=1" not in raws  # before: the value reached another path


@pytest.mark.parametrize("url", [
    "https://as.example/.well-known/oauth-authorization-server/../../admin",
    "https://as.example/a/../.well-known/openid-configuration",
    "https://as.example/.well-known/oauth-authorization-server/%2e%2E/x",
])
def test_discovery_refuses_dot_segments(url):
    with pytest.raises(providers.ProviderError, match="segments"):
        discovery.expected_issuer(url)


def test_a_wrong_issuer_is_not_echoed(serve, fake):
    fake.app.mode = "bad-issuer"
    lab = serve()
    page = FlowRunner(lab).use_provider(
        "Use this provider", client_id="x",
        discovery_url=fake("/.well-known/oauth-authorization-server"))
    assert page.status_code == 400
    assert "RFC 8414 §3.3" in _text(page.text)
    assert "elsewhere.example" not in page.text
