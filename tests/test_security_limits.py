"""Request bodies are capped: 64 KB at the OAuth endpoints, 1 MB elsewhere, 413."""

from __future__ import annotations

import re
from html import unescape

import pytest


def _chunks(size: int):
    """A body sent chunked, with no Content-Length."""
    for _ in range(size // 65536):
        yield b"a" * 65536


@pytest.mark.parametrize("issuer", ["/sandbox", "/sandbox/best-practice"])
@pytest.mark.parametrize("size", [100_000, 3_000_000])
def test_token_endpoint_refuses_big_bodies_as_oauth_json(live_server, http, size,
                                                         issuer):
    answer = http.post(live_server(issuer + "/api/token"), data={
        "grant_type": "client_credentials", "pad": "a" * size}, timeout=30)
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "invalid_request"
    assert "64 KB" in answer.json()["error_description"]


def test_a_chunked_body_without_length_is_capped_too(live_server, http):
    answer = http.post(live_server("/sandbox/api/token"), data=_chunks(2_000_000),
                       headers={"Content-Type": "application/x-www-form-urlencoded"},
                       timeout=30)
    assert answer.status_code == 413
    assert answer.json()["error"] == "invalid_request"


def test_authorize_refuses_big_bodies(live_server, http):
    answer = http.post(live_server("/sandbox/authorize"), data={"a": "b" * 100_000},
                       timeout=30)
    assert answer.status_code == 413


def test_other_pages_refuse_bodies_over_1_mb_with_the_error_page(live_server, http):
    small = http.post(live_server("/provider"), data={"pad": "a" * 200_000})
    assert small.status_code == 400  # read (and refused for its missing CSRF token)
    answer = http.post(live_server("/provider"), data={"pad": "a" * 2_000_000},
                       timeout=30)
    assert answer.status_code == 413
    text = unescape(re.sub(r"<[^>]+>", "", answer.text))
    assert "Back to the home page" in text and "1 MB" in text


def test_the_limits_are_configurable(serve, http):
    lab = serve(OAUTH_MAX_CONTENT_LENGTH=1000)
    answer = http.post(lab("/sandbox/api/token"), data={"pad": "a" * 2000})
    assert answer.status_code == 413
    assert "1000 bytes" in answer.json()["error_description"]
