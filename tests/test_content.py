"""The content pipeline: Markdown pages, TOML data, highlighting, and the data files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowlab.core.content import Content
from flowlab.core.content import highlight
from flowlab.core.content import render_markdown
from flowlab.core.content import split_front_matter
from flowlab.core.highlight import stylesheet
from flowlab.web.session import get_content
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
FLOWS = [
    "authorization-code", "authorization-code-pkce", "client-credentials", "implicit"
]
LESSONS = [*FLOWS, "refresh-tokens", "loopback-redirects", "back-channel"]
SAMPLE = """+++
title = "Sample"
order = 2
+++

# Heading one

| a | b |
|---|---|
| 1 | 2 |

Read [the other page](other.md#part) or [the web](https://example.com/x.md).

```python
def f():
    return 1
```
"""


@pytest.fixture
def tree(tmp_path) -> Path:
    """A small content folder: two pages, one skipped file, one data file."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "sample.md").write_text(SAMPLE)
    other = '+++\ntitle = "Other"\norder = 1\n+++\nHi'
    (tmp_path / "docs" / "other.md").write_text(other)
    (tmp_path / "docs" / "_draft.md").write_text("not published")
    (tmp_path / "things.toml").write_text('[one]\nname = "One"\n')
    return tmp_path


def test_pages_are_rendered_once_with_meta(tree):
    content = Content(tree)
    page = content.page("docs/sample")
    assert page.title == "Sample" and page["order"] == 2
    assert '<h1 id="heading-one">Heading one</h1>' in page.html
    assert "<table>" in page.html and "<td>1</td>" in page.html
    assert page.toc[0]["id"] == "heading-one"
    assert page.__html__() == page.html


def test_code_is_highlighted_with_classes_not_styles(tree):
    html = Content(tree).page("docs/sample").html
    assert '<div class="highlight"><pre>' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_relative_markdown_links_become_routes(tree):
    html = Content(tree).page("docs/sample").html
    assert 'href="other#part"' in html
    assert 'href="https://example.com/x.md"' in html


def test_pages_are_listed_in_order_and_underscore_files_skipped(tree):
    content = Content(tree)
    assert [p.title for p in content.pages("docs")] == ["Other", "Sample"]
    assert content.page("docs/_draft") is None
    assert content.page("docs/missing") is None


def test_data_files_are_parsed_and_a_missing_one_is_named(tree):
    content = Content(tree)
    assert content.data("things") == {"one": {"name": "One"}}
    with pytest.raises(KeyError, match="content/nothing.toml"):
        content.data("nothing")


def test_front_matter_errors_name_the_file():
    assert split_front_matter("no front matter") == ({}, "no front matter")
    with pytest.raises(ValueError, match="page.md"):
        split_front_matter("+++\ntitle = \n+++\n", "page.md")
    with pytest.raises(ValueError, match="closing"):
        split_front_matter("+++\ntitle = 'x'\n", "page.md")


def test_snippets_and_highlight_return_markup():
    assert render_markdown("**bold** `code`") == (
        "<p><strong>bold</strong> <code>code</code></p>"
    )
    html = highlight('{"a": 1}', "json")
    assert html.startswith('<div class="highlight">') and "style=" not in html
    assert hasattr(html, "__html__")


def test_committed_pygments_css_matches_the_generator():
    committed = (ROOT / "static" / "pygments.css").read_text()
    assert committed == stylesheet()
    assert "@media (prefers-color-scheme: dark)" in committed


def test_app_keeps_content_in_extensions(app):
    with app.app_context():
        assert get_content() is app.extensions["flowlab"].content
        assert get_content().data("decision-table")["flows"]


def test_missing_lesson_is_a_friendly_404(client):
    response = client.get("/lessons/no-such-lesson")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "no-such-lesson" in html and 'href="/"' in html


# --- The data files ----------------------------------------------------------------


def test_decision_table_has_the_four_flows_and_three_columns(app):
    with app.app_context():
        table = get_content().data("decision-table")
    assert [flow["id"] for flow in table["flows"]] == FLOWS
    keys = [column["key"] for column in table["columns"]]
    rows = {f["id"]: tuple(f[k] for k in keys) for f in table["flows"]}
    assert rows == {
        "authorization-code": (True, True, True),
        "authorization-code-pkce": (True, False, True),
        "client-credentials": (False, True, False),
        "implicit": (True, False, False),
    }
    implicit = table["flows"][3]
    assert implicit["status"] == "removed" and "2025-11-27" in implicit["status_note"]
    assert "implicit" not in table["preference"]


def test_changing_the_table_file_changes_home_and_advisor(tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "content", content_dir)
    path = content_dir / "decision-table.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('name = "Client credentials"', 'name = "Robot tokens"')
    text = text.replace('label = "Access-token refresh"', 'label = "Can renew"')
    path.write_text(text, encoding="utf-8")
    client = make_app(tmp_path / "instance", CONTENT_DIR=str(content_dir)).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "Robot tokens" in home and "Can renew" in home
    result = client.get("/advisor?acts_for_user=no&runs_on=server&needs_refresh=no")
    assert "<h1 id=\"result-title\">Robot tokens</h1>" in result.get_data(as_text=True)


REQUIRED_TERMS = """client_id client_secret response_type redirect_uri state scope
show_dialog code code_challenge code_challenge_method code_verifier grant_type
refresh_token access_token token_type expires_in error error_description iss token
token_type_hint active exp iat Authorization Content-Type Content-Length Accept
Accept-Encoding User-Agent Host Connection Location Cache-Control Pragma
WWW-Authenticate Set-Cookie Cookie Date Server Content-Security-Policy X-Frame-Options
Referrer-Policy Access-Control-Allow-Origin X-Content-Type-Options
Cross-Origin-Opener-Policy Permissions-Policy Vary""".split()


def test_glossary_covers_the_wire_in_the_agreed_format(app):
    with app.app_context():
        glossary = get_content().data("glossary")
    assert set(REQUIRED_TERMS) <= set(glossary)
    for name, term in glossary.items():
        assert term["kind"] in {"concept", "parameter", "header", "field"}, name
        assert term["meaning"] and term["rfc"] and term["check"], name
        fields = {"kind", "meaning", "rfc", "check", "spotify"}
        if term["kind"] == "concept":  # concepts carry a display title as well
            assert term["title"], name
            fields.add("title")
        assert set(term) <= fields, name
        if term["kind"] == "header":  # canonical case: each word capitalised
            assert all(word[0].isupper() for word in name.split("-")), name


@pytest.mark.parametrize("slug", LESSONS)
def test_each_lesson_runs_live_and_shows_code(client, slug):
    html = client.get(f"/lessons/{slug}").get_data(as_text=True)
    assert 'href="/run/' in html
    assert '<div class="highlight">' in html
    assert "style=" not in html


@pytest.mark.parametrize("slug", FLOWS)
def test_flow_lessons_have_their_row_and_a_diagram(client, slug):
    html = client.get(f"/lessons/{slug}").get_data(as_text=True)
    assert f'href="/run/{slug}"' in html
    assert 'class="decision-table"' in html and html.count('<th scope="row">') == 1
    assert "<svg viewBox=" in html and "<title" in html
    if slug != "implicit":  # the removed flow gets no code to copy
        assert "requests_oauthlib" in html


def test_implicit_lesson_is_marked_removed(client):
    html = client.get("/lessons/implicit").get_data(as_text=True)
    assert "2025-11-27" in html and "RFC 9700" in html
    assert 'class="notice notice-warning"' in html


def test_refresh_lesson_states_spotify_behaviour(client):
    html = client.get("/lessons/refresh-tokens").get_data(as_text=True)
    # Since 2026-06-18/07-20: no new refresh_token on refresh, PKCE included.
    assert "2026-06-18" in html and "2026-07-20" in html and "six months" in html
    assert "No new refresh token comes back" in html
    assert "RFC 9700 §2.2.2" in html and "invalid_grant" in html
    assert "Spotify rotates" not in html


def test_refresh_lesson_links_the_profile_and_lab_that_show_rotation(client):
    html = client.get("/lessons/refresh-tokens").get_data(as_text=True)
    for href in ("/sandbox/best-practice/", "/labs/refresh-replay"):
        assert f'href="{href}"' in html, href
        assert client.get(href).status_code == 200, href
    assert "later sandbox profile" not in html


def test_id_token_checks_say_where_aud_and_azp_stand(client):
    """OIDC Core §2, §3.1.3.7, errata set 2: azp is ignored by a Core-only app."""
    html = client.get("/lessons/authorization-vs-authentication").get_data(
        as_text=True)
    text = " ".join(html.split())
    assert "no audience the app does not trust" in text
    assert "<td><code>azp</code></td>" in text
    assert "errata set 2" in text and "ignore it when present" in text
