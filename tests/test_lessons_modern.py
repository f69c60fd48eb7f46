"""Lessons and glossary entries for OAuth as deployed in 2026: OpenID Connect and ID
token validation (errata set 2), PAR, DPoP, private_key_jwt, JWT access tokens,
resource indicators, protected resource metadata, the MCP profile and FAPI 2.0."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = tomllib.loads((ROOT / "content" / "glossary.toml").read_text("utf-8"))

# Each lesson, and what it must cite (the RFC or spec sections it teaches).
MODERN_LESSONS = {
    "openid-connect": ["§3.1.3.7", "errata set 2", "§3.1.3.8", "Discovery 1.0 §4"],
    "par": ["RFC 9126", "§2.1", "§2.2", "§4", "require_pushed_authorization_requests"],
    "dpop": ["RFC 9449", "§4.2", "§4.3", "use_dpop_nonce", "§7.2", "RFC 7638"],
    "private-key-jwt": ["RFC 7523 §2.2", "Core §9", "issuer identifier",
                        "audience injection"],
    "jwt-access-tokens": ["RFC 9068", "at+jwt", "§2.2", "§4"],
    "resource-indicators": ["RFC 8707", "invalid_target", "§2.1", "§2.2"],
    "protected-resource-metadata": ["RFC 9728", "resource_metadata", "§3.3", "§5"],
    "mcp-authorization": ["2025-11-25", "RFC 9728", "RFC 8414", "RFC 7591",
                          "RFC 8707", "client ID metadata document", "S256",
                          "draft-ietf-oauth-v2-1"],
    "fapi-2": ["RFC 9126", "RFC 9449", "RFC 9207", "60 seconds", "private_key_jwt"],
}
CONCEPTS = ["id-token-validation", "pushed-authorization-request", "dpop",
            "private-key-jwt", "jwt-access-token", "resource-indicator",
            "protected-resource-metadata", "mcp-authorization", "fapi-2"]
WIRE = ["nonce", "resource", "request_uri", "client_assertion",
        "client_assertion_type", "id_token", "DPoP", "DPoP-Nonce"]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(("slug", "cited"), MODERN_LESSONS.items())
def test_each_lesson_is_listed_renders_and_cites_its_sections(client, slug, cited):
    index = client.get("/lessons/").get_data(as_text=True)
    assert f'href="/lessons/{slug}"' in index
    html = client.get(f"/lessons/{slug}").get_data(as_text=True)
    assert "<h1>" in html and 'href="/glossary#concept-' in html
    assert "style=" not in html
    for needle in cited:
        assert needle in text(html), (slug, needle)


def test_the_oidc_lesson_runs_the_flow_and_shows_the_checks_in_code(client):
    html = client.get("/lessons/openid-connect").get_data(as_text=True)
    assert 'href="/run/sign-in-oidc"' in html
    assert '<div class="highlight">' in html
    for check in ("kid", "nonce", "at_hash", "azp"):
        assert f"<code>{check}</code>" in html, check


@pytest.mark.parametrize("key", CONCEPTS)
def test_each_concept_has_its_fields(key):
    entry = GLOSSARY[key]
    assert entry["kind"] == "concept"
    assert entry["title"] and entry["meaning"] and entry["rfc"] and entry["check"]
    assert "/lessons/" in entry["check"]


@pytest.mark.parametrize("key", WIRE)
def test_each_wire_name_is_annotated(key):
    entry = GLOSSARY[key]
    assert entry["kind"] in ("parameter", "field", "header")
    assert entry["meaning"] and entry["rfc"] and entry["check"]
    assert "](" not in entry["meaning"] + entry["check"]  # plain text on the wire


def test_the_glossary_page_shows_them(client):
    html = client.get("/glossary").get_data(as_text=True)
    for key in CONCEPTS:
        assert f'id="concept-{key}"' in html, key
    assert 'id="parameter-nonce"' in html and 'id="header-dpop"' in html

# Their axe audits: tests/test_browser_pages.py (OWN_PAGES), and the layout walk.
