"""The labs page: every lab linked as /labs/<id>, with its level, filtered by level
and by RFC 9700 section without a session (issue 23, "In the room")."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from flowlab.labs.catalogue import LEVELS
from flowlab.labs.catalogue import load

ROOT = Path(__file__).resolve().parents[1]
LAB_LINK = re.compile(r'<h2><a href="/labs/([^"]+)">')


def labs_on(live_server, query: str = "") -> tuple[list[str], str]:
    page = requests.get(live_server("/labs/" + query), timeout=10)
    assert page.status_code == 200
    return LAB_LINK.findall(page.text), page.text


def test_every_lab_has_a_level_and_an_id_naming_it():
    for lab in load(ROOT / "content" / "labs").values():
        assert lab.level in LEVELS
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lab.id)


def test_the_list_links_every_lab_in_order(live_server):
    ids, text = labs_on(live_server)
    assert ids == list(load(ROOT / "content" / "labs"))
    assert f"{len(ids)} labs." in text
    for lab_id in ids:
        assert requests.get(live_server(f"/labs/{lab_id}"),
                            timeout=10).status_code == 200


def test_filter_by_level(live_server):
    labs = load(ROOT / "content" / "labs")
    for level in LEVELS:
        ids, text = labs_on(live_server, f"?level={level}")
        assert ids == [i for i, lab in labs.items() if lab.level == level]
        assert f"{len(ids)} of {len(labs)} labs, level {level}." in text
        assert '<a href="/labs/">Show all labs</a>' in text


def test_filter_by_section_takes_its_subsections(live_server):
    ids, text = labs_on(live_server, "?section=4.1")
    assert "redirect-uri" in ids and "csrf-state" not in ids
    assert '<option value="4.1" selected>' in text
    ids, _ = labs_on(live_server, "?section=2.1")
    assert "code-interception" in ids  # it cites §2.1.1


def test_filters_combine_and_no_match_says_so(live_server):
    ids, _ = labs_on(live_server, "?level=expert&section=4.4")
    assert ids == ["mix-up"]
    ids, text = labs_on(live_server, "?level=apprentice&section=4.4")
    assert ids == [] and "No lab matches." in text
    ids, text = labs_on(live_server, "?level=<script>")
    assert ids == [] and "<script>" not in text
