"""The glossary of concepts and wire names, and every content link into them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flowlab.core.runner.present import lookup
from tests.a11y import serious_violations

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
GLOSSARY = tomllib.loads((CONTENT / "glossary.toml").read_text(encoding="utf-8"))

# The keys every helper may link to as /glossary#concept-<key> (shared convention).
CONCEPTS = """public-client confidential-client front-channel back-channel
authorization-grant bearer-token access-token refresh-token refresh-token-rotation
sender-constrained-token code-injection code-interception mix-up-attack csrf pkce
authorization-server resource-server resource-owner consent openid-connect""".split()
NEW_LESSONS = [
    "device-authorization", "browser-apps", "native-apps", "spotify-development-mode",
    "authorization-vs-authentication", "spotify-vs-best-practice",
]
GLOSSARY_LINK = re.compile(r"/glossary#([A-Za-z0-9_.\-]+)")
LESSON_LINK = re.compile(r"/lessons/([a-z0-9\-]+)(?:#([A-Za-z0-9_\-]+))?")
RELATIVE_LINK = re.compile(r"\]\(([a-z0-9\-]+)\.md(?:#([A-Za-z0-9_\-]+))?\)")


def content_links() -> tuple[set[str], set[tuple[str, str]]]:
    """Glossary anchors and (lesson, anchor) pairs linked from any content file."""
    anchors, lessons = set(), set()
    for path in [*CONTENT.rglob("*.md"), *CONTENT.rglob("*.toml")]:
        text = path.read_text(encoding="utf-8")
        anchors |= set(GLOSSARY_LINK.findall(text))
        lessons |= set(LESSON_LINK.findall(text))
        if path.parent.name == "lessons":  # slug.md links become /lessons/slug
            lessons |= set(RELATIVE_LINK.findall(text))
    return anchors, lessons


def ids(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


@pytest.mark.parametrize("key", CONCEPTS)
def test_every_agreed_concept_exists_with_its_fields(key):
    term = GLOSSARY[key]
    assert term["kind"] == "concept"
    assert all(term.get(field) for field in ("title", "meaning", "rfc", "check"))


def test_concepts_come_first_with_their_anchors_and_rendered_links(live_server, http):
    html = http.get(live_server("/glossary")).text
    assert html.index('id="concepts"') < html.index('id="parameters"')
    assert {f"concept-{key}" for key in CONCEPTS} <= ids(html)
    assert "<strong>Public client</strong>" in html
    # Concept text is Markdown: its links arrive as links, not as brackets.
    assert '<a href="/lessons/native-apps">native apps</a>' in html
    assert "](/lessons/" not in html


def test_every_content_link_to_the_glossary_or_a_lesson_resolves(live_server, http):
    anchors, lessons = content_links()
    assert anchors and lessons, "the pattern found no links at all"
    glossary_ids = ids(http.get(live_server("/glossary")).text)
    assert sorted(a for a in anchors if a not in glossary_ids) == []
    broken = []
    for slug, anchor in sorted(lessons):
        response = http.get(live_server(f"/lessons/{slug}"))
        if response.status_code != 200 or (anchor and anchor not in ids(response.text)):
            broken.append(f"/lessons/{slug}#{anchor}" if anchor else f"/lessons/{slug}")
    assert broken == []


def test_the_runner_annotates_wire_names_but_never_with_a_concept():
    assert lookup(GLOSSARY, "query", "pkce") is None
    assert lookup(GLOSSARY, "header", "Csrf") is None
    assert lookup(GLOSSARY, "json", "error.consent") is None
    assert lookup(GLOSSARY, "json", "access_token") is GLOSSARY["access_token"]
    assert lookup(GLOSSARY, "header", "www-authenticate")["kind"] == "header"


# Facts the 2026 review corrected: (entry, field, text it must hold, text it must not).
FACTS = [
    ("WWW-Authenticate", "spotify", 'error=\\"invalid_token\\"', "instead"),
    ("Set-Cookie", "check", "SameSite=Lax", "Lax or Strict"),
    ("id", "check", "account_id", "stable key"),
    ("account_id", "check", "account_id", "`id` or"),
    ("refresh_token", "spotify", "no new refresh_token", "PKCE refreshes rotate"),
    ("refresh_token", "check", "§2.2.2", "RFC 9700 §4.14)"),
    ("code_challenge_method", "check", "Neither RFC requires", "should refuse plain"),
    ("redirect_uri", "check", "RFC 8252 §7.1", "RFC 9700 §4.1.3); https, or"),
    ("token", "check", "RFC 7662 §2.1", "before revoking it or describing it"),
    ("country", "spotify", "Development-Mode", "\0"),
    ("product", "spotify", "Development-Mode", "\0"),
    ("explicit_content", "spotify", "Development-Mode", "\0"),
    ("client_secret", "spotify", "form body", "only inside"),
    # Issue 18 item 30: OIDC Core §2, §3.1.3.7 and errata set 2.
    ("openid-connect", "check", "no audience you do not trust", "equal to your"),
    ("openid-connect", "check", "errata set 2", "\0"),
    ("openid-connect", "check", "ignores it when present", "\0"),
]


@pytest.mark.parametrize(("key", "field", "holds", "not_held"), FACTS)
def test_reviewed_entries_state_the_corrected_fact(key, field, holds, not_held):
    text = GLOSSARY[key][field].replace('"', '\\"')
    assert holds in text and not_held not in text


def test_new_lessons_are_listed_and_render(live_server, http):
    index = http.get(live_server("/lessons/")).text
    for slug in NEW_LESSONS:
        assert f'href="/lessons/{slug}"' in index
        html = http.get(live_server(f"/lessons/{slug}")).text
        assert "<h1>" in html and 'href="/glossary#concept-' in html, slug


@pytest.mark.only_reads
@pytest.mark.browser
@pytest.mark.parametrize("slug", NEW_LESSONS)
def test_new_lessons_pass_axe(page, live_server, slug):
    page.goto(live_server(f"/lessons/{slug}"))
    assert serious_violations(page) == []
