"""The exercises' pages over HTTP: the list links each exercise to its lesson, each
lesson links back to the exercises that practise it, starting from a page needs the
form's CSRF token, and a browser's attempts are remembered."""

from __future__ import annotations

import re

import requests


def _csrf(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_list_names_what_each_practises_and_its_lesson(live_server):
    exercises = requests.get(live_server("/api/exercises"), timeout=10).json()
    page = requests.get(live_server("/exercises"), timeout=10)
    assert page.status_code == 200
    for exercise in exercises["exercises"]:
        assert f'href="/exercises/{exercise["id"]}"' in page.text
        assert exercise["practises"] in page.text.replace("&#39;", "'")
        assert f'href="{exercise["lesson"]}"' in page.text


def test_lessons_link_to_their_exercises(live_server):
    lesson = requests.get(live_server("/lessons/authorization-code-pkce"), timeout=10)
    assert "Practise it yourself" in lesson.text
    assert 'href="/exercises/pkce-script"' in lesson.text
    other = requests.get(live_server("/lessons/implicit"), timeout=10)
    assert "Practise it yourself" not in other.text


def test_starting_from_a_page_needs_the_forms_token(live_server):
    browser = requests.Session()
    refused = browser.post(live_server("/exercises/pkce-script/attempts"), timeout=10)
    assert refused.status_code == 400
    page = browser.get(live_server("/exercises/pkce-script"), timeout=10)
    started = browser.post(live_server("/exercises/pkce-script/attempts"),
                           data={"csrf_token": _csrf(page)}, allow_redirects=False,
                           timeout=10)
    assert started.status_code == 303
    attempt = started.headers["Location"]
    shown = browser.get(live_server(attempt), timeout=10)
    assert shown.status_code == 200 and "Checklist" in shown.text
    mine = browser.get(live_server("/exercises"), timeout=10).text
    assert "Your attempts" in mine and f'href="{attempt}"' in mine
    assert "Your attempts" not in requests.get(live_server("/exercises"),
                                               timeout=10).text


def test_unknown_pages_are_404(live_server):
    for path in ("/exercises/nothing", "/exercises/attempts/nothing"):
        assert requests.get(live_server(path), timeout=10).status_code == 404


def test_the_secret_is_shown_only_to_the_browser_that_started(live_server):
    browser = requests.Session()
    page = browser.get(live_server("/exercises/redeem-with-curl"), timeout=10)
    started = browser.post(live_server("/exercises/redeem-with-curl/attempts"),
                           data={"csrf_token": _csrf(page)}, timeout=10)
    secret = re.search(r'id="client-secret">([^<]+)<', started.text).group(1)
    assert len(secret) >= 32
    other = requests.get(started.url, timeout=10).text
    assert secret not in other and 'id="client-secret"' not in other
    assert "Shown only in the browser that started this attempt" in other
