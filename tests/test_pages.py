"""Pages over real HTTP: every page answers, and errors are friendly everywhere."""

from __future__ import annotations

import re

import pytest
from flask import abort

from tests.test_content import LESSONS

PAGES = [
    "/",
    "/advisor",
    "/advisor?acts_for_user=yes&runs_on=native&needs_refresh=yes",
    "/lessons/",
    *[f"/lessons/{slug}" for slug in LESSONS],
    "/glossary",
]
ASSETS = ["/static/style.css", "/static/pygments.css", "/static/favicon.svg"]


def assert_friendly(response, code: int) -> str:
    """An HTML error page with the code, a way back, and no trace of the code."""
    html = response.text
    assert response.status_code == code
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'class="error-page' in html and 'href="/"' in html
    assert "Traceback" not in html and 'File "' not in html
    return html


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_html(live_server, http, path):
    response = http.get(live_server(path))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1" in response.text and '<main id="main"' in response.text
    # Nothing is fetched from anywhere else.
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    assert "style=" not in response.text


@pytest.mark.parametrize("path", ASSETS)
def test_assets_are_served_by_the_app(live_server, http, path):
    assert http.get(live_server(path)).status_code == 200


def test_lessons_index_lists_every_lesson(live_server, http):
    html = http.get(live_server("/lessons/")).text
    for slug in LESSONS:
        assert f'href="/lessons/{slug}"' in html


def test_glossary_has_anchors_for_terms(live_server, http):
    html = http.get(live_server("/glossary")).text
    assert 'id="parameter-code_verifier"' in html
    assert 'id="header-content-type"' in html
    assert "RFC 7636 §4.1" in html


def test_api_advice_over_http(live_server, http):
    response = http.get(
        live_server("/api/advice?acts_for_user=yes&runs_on=spa&needs_refresh=no")
    )
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["recommended"] == "authorization-code-pkce"


def test_unknown_page_is_a_friendly_404(live_server, http):
    html = assert_friendly(http.get(live_server("/no/such/page")), 404)
    assert "Not Found" in html


def test_wrong_method_is_a_friendly_405_that_keeps_allow(live_server, http):
    response = http.post(live_server("/glossary"))
    assert_friendly(response, 405)
    assert "GET" in response.headers["Allow"]


def test_bad_advisor_answers_are_a_400_form(live_server, http):
    response = http.get(live_server("/advisor?acts_for_user=sometimes"))
    assert response.status_code == 400
    assert "field-error" in response.text and "<form" in response.text


def test_api_errors_are_json(live_server, http):
    response = http.get(live_server("/api/nothing-here"))
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_crash_and_abort_pages_hide_the_details(serve, http):
    server = serve(TESTING=False)

    def crash():
        raise RuntimeError("database password is hunter2")

    server.app.add_url_rule("/boom", view_func=crash)
    server.app.add_url_rule("/bad", view_func=lambda: abort(400))
    html = assert_friendly(http.get(server("/boom")), 500)
    assert "hunter2" not in html and "RuntimeError" not in html
    assert_friendly(http.get(server("/bad")), 400)
