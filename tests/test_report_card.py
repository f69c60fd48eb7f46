"""A provider's report card (issue 22 §4), over HTTP with plain requests.

``/inspect/report?issuer=…`` checks what an authorization server's metadata says
against RFC 9700, OAuth 2.1 and FAPI 2.0, one line a check, each pass, warn, fail or
unknown. The sandbox's three issuers are read from the app's own metadata; any other
issuer is fetched (RFC 8414 §3.1, then OpenID Connect Discovery §4) only when asked.
These tests import nothing from ``flowlab``: they read the page as a user does.
"""

from __future__ import annotations

import re
import socket
from html import unescape
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask import request

from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer

LINES = ("s256", "plain", "implicit", "iss", "par", "dpop", "client_auth",
         "revocation", "introspection", "https", "response_modes", "registration",
         "refresh_rotation", "exact_redirect", "code_once")
LINE = re.compile(r'<li class="report-line[^"]*" id="line-([a-z_0-9]+)" '
                  r'data-verdict="([a-z]+)" data-outcome="([a-z0-9_-]+)"')

# What each issuer's metadata earns, line by line: (verdict, outcome).
UNKNOWABLE = {"refresh_rotation": ("unknown", "otherwise"),
              "exact_redirect": ("unknown", "otherwise"),
              "code_once": ("unknown", "otherwise")}
SPOTIFY_LIKE = {
    "s256": ("pass", "s256"), "plain": ("pass", "otherwise"),
    "implicit": ("fail", "token"), "iss": ("pass", "yes"),
    "par": ("warn", "otherwise"), "dpop": ("warn", "otherwise"),
    "client_auth": ("warn", "secrets"), "revocation": ("pass", "yes"),
    "introspection": ("pass", "yes"), "https": ("pass", "loopback"),
    "response_modes": ("warn", "fragment"), "registration": ("pass", "otherwise"),
    **UNKNOWABLE,
}
BEST_PRACTICE = SPOTIFY_LIKE | {
    "par": ("pass", "offered"), "dpop": ("pass", "dpop"),
    "client_auth": ("pass", "asymmetric"), "registration": ("unknown", "open"),
}
FAPI2 = BEST_PRACTICE | {"par": ("pass", "required"),
                         "implicit": ("pass", "otherwise"),  # code only
                         "response_modes": ("pass", "otherwise")}
OIDC_PROVIDER = BEST_PRACTICE | {"implicit": ("warn", "id_token")}


def card(http, url: str) -> tuple[requests.Response, dict, str]:
    """The page, its lines as {id: (verdict, outcome)}, and its text."""
    page = http.get(url, timeout=30)
    lines = {one: (verdict, outcome)
             for one, verdict, outcome in LINE.findall(page.text)}
    return page, lines, text_of(page.text)


def item(page: requests.Response, line: str) -> str:
    """One line of the card, as HTML."""
    return re.search(f'id="line-{line}".*?</li>', page.text, re.S).group(0)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def report(server, issuer: str) -> str:
    return server("/inspect/report?" + requests.compat.urlencode({"issuer": issuer}))


def test_the_form_offers_the_sandboxs_three_issuers(live_server, http):
    page = http.get(live_server("/inspect/report"), timeout=10)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Issuer URL" in text and "Check this provider" in text
    assert LINE.findall(page.text) == []  # nothing checked, nothing fetched
    for path, label in (("/sandbox", "Spotify today"),
                        ("/sandbox/best-practice", "best practice"),
                        ("/sandbox/fapi2", "FAPI 2.0")):
        link = re.search(r'<a href="([^"]+)">' + re.escape(label) + "</a>", page.text)
        assert link, label
        href = urlsplit(unescape(link.group(1)))
        assert href.path == "/inspect/report"
        assert parse_qs(href.query) == {"issuer": [live_server(path)]}


@pytest.mark.parametrize(("path", "expected"), [
    ("/sandbox", SPOTIFY_LIKE),
    ("/sandbox/best-practice", BEST_PRACTICE),
    ("/sandbox/fapi2", FAPI2),
])
def test_the_sandbox_issuers_cards(live_server, http, path, expected):
    page, lines, text = card(http, report(live_server, live_server(path)))
    assert page.status_code == 200, text[-1500:]
    assert list(lines) == list(LINES)
    assert lines == expected
    assert f"Report card for {live_server(path)}" in text
    assert "Read from the lab's own sandbox, without a fetch" in text


def test_each_line_says_its_section_why_it_matters_and_how_to_find_out(
        live_server, http):
    page, lines, text = card(http, report(live_server, live_server("/sandbox")))
    assert "RFC 9700 §2.1.2" in text and "RFC 9207" in text and "RFC 9126" in text
    assert "RFC 9449" in text and "RFC 8414 §3.3" not in text
    assert "Offers token" in text_of(item(page, "implicit"))  # what the metadata says
    https = text_of(item(page, "https"))
    assert "loopback" in https and "the lab's exception" in https
    rotation = item(page, "refresh_rotation")
    assert "metadata cannot show" in text_of(rotation)
    assert 'href="/labs/refresh-replay"' in rotation
    assert 'href="/run/authorization-code-pkce"' in rotation
    exact = item(page, "exact_redirect")
    assert 'href="/labs/redirect-uri"' in exact
    summary = re.search(r'<p class="report-summary">(.*?)</p>', page.text, re.S)
    assert text_of(summary.group(1)) == "7 pass, 4 warn, 1 fail, 3 unknown"


def test_oidc_provider_card(live_server, http, oidc_server):
    page, lines, text = card(http, report(live_server, oidc_server.issuer))
    assert page.status_code == 200, text[-1500:]
    assert lines == OIDC_PROVIDER
    source = oidc_server.issuer + "/.well-known/oauth-authorization-server"
    assert f"Read from {source}" in text
    assert "code id_token" in text_of(item(page, "implicit"))


def test_an_issuer_with_a_path_has_it_inserted(live_server, http, oidc_server):
    page, lines, text = card(http, report(live_server, oidc_server.tenant_issuer))
    assert page.status_code == 200, text[-1500:]
    assert lines == OIDC_PROVIDER
    assert f"Report card for {oidc_server.tenant_issuer}" in text


# Providers that answer badly, on another loopback address than the lab's.


def make_bad_provider() -> Flask:
    """``/html``: a web page where the metadata should be; ``/other``: metadata
    naming another issuer; ``/oidc-only``: OpenID discovery only, appended to the
    issuer's path (Discovery §4.1)."""
    app = Flask("bad-provider")
    app.seen = []

    @app.before_request
    def record():
        app.seen.append(request.path)

    @app.get("/.well-known/<kind>/html")
    def html(kind):
        return "<!doctype html><title>Sign in</title>", 200

    @app.get("/.well-known/oauth-authorization-server/other")
    def other():
        return {"issuer": "https://elsewhere.example", "response_types_supported":
                ["code"]}

    @app.get("/oidc-only/.well-known/openid-configuration")
    def oidc_only():
        issuer = request.host_url + "oidc-only"
        return {"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
                "token_endpoint": issuer + "/token",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256", "plain"]}

    return app


@pytest.fixture
def bad_provider():
    server = LiveServer(make_bad_provider(), backchannel=False, host=PROVIDER_HOST)
    yield server
    server.close()


def test_discovery_falls_back_to_openid_configuration(live_server, http, bad_provider):
    issuer = bad_provider("/oidc-only")
    page, lines, text = card(http, report(live_server, issuer))
    assert page.status_code == 200, text[-1500:]
    assert f"Read from {issuer}/.well-known/openid-configuration" in text
    assert bad_provider.app.seen == [
        "/.well-known/oauth-authorization-server/oidc-only",
        "/.well-known/openid-configuration/oidc-only",
        "/oidc-only/.well-known/openid-configuration"]
    assert lines["plain"] == ("warn", "plain")
    assert lines["implicit"] == ("pass", "otherwise")
    assert lines["response_modes"] == ("pass", "otherwise")
    assert lines["iss"] == ("warn", "otherwise")
    assert lines["revocation"] == ("warn", "otherwise")
    assert lines["client_auth"] == ("warn", "default")


def test_an_unreachable_issuer_is_a_clear_error(live_server, http):
    with socket.socket() as sock:
        sock.bind((PROVIDER_HOST, 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    page, lines, text = card(http, report(live_server, f"http://{PROVIDER_HOST}:{port}"))
    assert page.status_code == 502
    assert lines == {}
    assert f"Nothing accepts connections at http://{PROVIDER_HOST}:{port}" in text


def test_a_web_page_instead_of_metadata_is_a_clear_error(live_server, http,
                                                         bad_provider):
    page, lines, text = card(http, report(live_server, bad_provider("/html")))
    assert page.status_code == 502 and lines == {}
    assert "not with a JSON object (Content-Type: text/html" in text


def test_metadata_naming_another_issuer_is_not_used(live_server, http, bad_provider):
    issuer = bad_provider("/other")
    page, lines, text = card(http, report(live_server, issuer))
    assert page.status_code == 502 and lines == {}
    assert f"names another issuer than {issuer}" in text and "RFC 8414 §3.3" in text
    assert "elsewhere.example" not in text  # the untrusted value is not echoed
    assert bad_provider.app.seen == ["/.well-known/oauth-authorization-server/other"]


@pytest.mark.parametrize(("issuer", "message"), [
    ("ftp://example.com/", "must be an https URL"),
    ("http://example.com", "must be an https URL"),  # plain http beyond loopback
    ("login.example.com", "must be an https URL"),  # no scheme
    ("https://login.example.com/?tenant=1", "no query or fragment"),
])
def test_issuers_that_are_no_https_url_are_refused_before_any_fetch(
        live_server, http, issuer, message):
    page, lines, text = card(http, report(live_server, issuer))
    assert page.status_code == 400 and lines == {}
    assert message in text


def test_a_page_that_only_embeds_the_link_fetches_nothing(live_server, http,
                                                          bad_provider):
    """An image or a script another site points at the card is no user asking."""
    page = http.get(report(live_server, bad_provider("/oidc-only")), timeout=10,
                    headers={"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image",
                             "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 403
    assert bad_provider.app.seen == []


def test_a_remote_requester_cannot_make_the_lab_fetch_loopback(live_server,
                                                               bad_provider):
    """The SSRF guard: for a browser on another machine the lab fetches public
    addresses only (in tests only loopback is reachable, so any fetch is refused)."""
    client = live_server.app.test_client()
    page = client.get("/inspect/report", base_url="http://127.0.0.1",
                      query_string={"issuer": bad_provider("/oidc-only")},
                      environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert page.status_code == 400
    assert "not a public address" in text_of(page.text)
    assert bad_provider.app.seen == []
