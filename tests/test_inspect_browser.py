"""The inspector's page in a real Chromium (issue 22 §1): one text area; the form
POST, with no JavaScript at all, renders the same answer as ``POST /api/inspect``;
axe clean in both colour schemes, no horizontal overflow on a phone, fine wide and
in large type."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from tests.a11y import serious_violations

pytestmark = pytest.mark.browser

SECRET = "s3cr3t-V4lue-0123456789abcdef"
BAD_URL = ("https://accounts.spotify.com/authorize?response_type=token"
           "&client_id=0123456789abcdef0123456789abcdef"
           "&redirect_uri=http%3A%2F%2Flocalhost%3A8888%2Fcallback"
           f"&client_secret={SECRET}&scope=user-read-private+user-read-email")
NO_OVERFLOW = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


LONG_JWT = (_b64({"alg": "RS256", "typ": "JWT", "kid": "k" * 60}) + "."
            + _b64({"iss": "https://as.example.com/" + "x" * 80, "sub": "u-1",
                    "aud": "app-1", "exp": int(time.time()) - 60, "iat": 1,
                    "nonce": "n" * 90}) + ".c2ln")


def _inspect(page, live_server, text: str) -> None:
    page.goto(live_server("/inspect"))
    page.get_by_label("What to inspect").fill(text)
    page.get_by_role("button", name="Inspect").click()
    page.wait_for_load_state()


@pytest.mark.no_javascript
def test_the_form_post_renders_the_api_answer_without_javascript(page, live_server):
    _inspect(page, live_server, BAD_URL)
    answer = requests.post(live_server("/api/inspect"), json={"input": BAD_URL},
                           timeout=10).json()
    result = page.locator("#inspect-result")
    assert result.locator("#inspect-kind").inner_text() == (
        "It is: authorization_request")
    shown = result.inner_text()
    for finding in answer["findings"]:
        assert finding["message"] in shown and finding["ref"] in shown
    assert result.locator(".inspect-findings li").count() == len(answer["findings"])
    assert result.locator(".inspect-findings li").first.locator(
        ".badge").inner_text() == "high"
    names = result.locator(".inspect-parts dt").all_inner_texts()
    assert names == [part["name"] for part in answer["parts"]]
    for part in answer["parts"]:
        assert part["value"] in shown and part["explain"] in shown
    assert SECRET not in page.content()  # masked, and the text area left empty
    assert page.get_by_label("What to inspect").input_value() == ""


@pytest.mark.no_javascript
def test_unknown_text_says_so_without_a_guess(page, live_server):
    _inspect(page, live_server, "just some words")
    result = page.locator("#inspect-result")
    assert result.locator("#inspect-kind").inner_text() == "It is: unknown"
    assert result.locator(".inspect-parts").count() == 0
    assert "rather than guess" in result.inner_text()


def test_the_page_is_axe_clean_and_fits_a_phone_wide_and_large_type(page,
                                                                    live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/inspect"))
    assert page.evaluate(NO_OVERFLOW)
    assert serious_violations(page) == []
    for text in (BAD_URL, LONG_JWT):
        _inspect(page, live_server, text)
        assert page.locator("#inspect-result .inspect-parts dt").count() > 3
        assert page.evaluate(NO_OVERFLOW), text
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            assert serious_violations(page) == [], (text, scheme)
    assert "expired" in page.locator(".inspect-findings").inner_text()

    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.evaluate(NO_OVERFLOW)
    page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                               "url": live_server()}])
    page.set_viewport_size({"width": 1280, "height": 720})
    _inspect(page, live_server, BAD_URL)
    assert page.evaluate(NO_OVERFLOW)
    assert serious_violations(page) == []
