"""What the dark scheme may change, which is why its audit runs the colour rules.

The layout walk audits each page in light with every axe rule, then in dark with
the colour rules (``a11y.COLOUR_RULES``), or with every rule again where the page
is not laid out as in light. That checks the same only while the stylesheets'
``prefers-color-scheme: dark`` blocks change what this test allows: colours, a
shadow (painting only), and in code blocks the font weight, style and border
(which only the contrast and link rules read, and whose effect on layout the walk
measures on each page). Anything else a dark block sets fails here first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.a11y import in_schemes

STATIC = Path(__file__).resolve().parent.parent / "static"
DARK = re.compile(r"@media\s*\(\s*prefers-color-scheme:\s*dark\s*\)\s*\{")
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|(rgb|hsl)a?\([^)]*\)|transparent|inherit")
PAINT = {"color", "background-color", "box-shadow"}  # read by no layout
CODE_TOKENS = {"font-weight", "font-style", "border"}  # Pygments' dark style


def _rules(css: str):
    """(selector, property, value) of each declaration in ``css`` (no nesting)."""
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                yield " ".join(selector.split()), name.strip(), value.strip()


def _dark_blocks(css: str) -> list[str]:
    blocks = []
    for found in DARK.finditer(css):
        depth, end = 1, found.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        blocks.append(css[found.end():end - 1])
    return blocks


def _stylesheets() -> dict[str, str]:
    return {path.name: re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
            for path in sorted(STATIC.glob("*.css"))}


def test_the_dark_scheme_changes_colours_only_outside_code_blocks():
    sheets = _stylesheets()
    uses = [rule for css in sheets.values() for rule in _rules(css)]
    seen = set()
    for name, css in sheets.items():
        for block in _dark_blocks(css):
            for selector, prop, value in _rules(block):
                seen.add(prop)
                where = f"{name}: {selector} {{ {prop}: {value} }}"
                if prop.startswith("--") and COLOUR.fullmatch(value):
                    continue  # a colour for a colour, wherever it is used
                if prop.startswith("--"):  # anything else: used where it paints
                    used = {p for _, p, v in uses if f"var({prop})" in v}
                    assert used <= PAINT, where
                elif prop in CODE_TOKENS:
                    assert all(part.strip().startswith(".highlight ")
                               for part in selector.split(",")), where
                else:
                    assert prop in PAINT or (prop == "background"
                                             and COLOUR.fullmatch(value)), where
    assert {"--bg", "--text", "font-weight"} <= seen  # the blocks were read


# A page that is fine in light; in dark, its text fails contrast, and an image
# without a text alternative appears (a layout change: every rule runs again).
DARK_ONLY_FAULTS = """<!doctype html><html lang="en"><title>Schemes</title>
<style>.dark { display: none }
@media (prefers-color-scheme: dark) { body { background: #000; color: #222 }
  .dark { display: block } }</style>
<main><h1>Schemes</h1><p>Some text.</p><img class="dark" src="data:image/gif;base64,
R0lGODlhAQABAAAAACwAAAAAAQABAAA="></main></html>"""


@pytest.mark.browser
def test_the_dark_audit_finds_what_only_dark_mode_breaks(page):
    page.set_content(DARK_ONLY_FAULTS.replace("display: block", "display: none"))
    found = in_schemes(page, ("light", "dark"))
    assert [line.split(" (")[0] for line in found] == ["dark: color-contrast"]
    page.set_content(DARK_ONLY_FAULTS)
    found = in_schemes(page, ("light", "dark"))
    assert [line.split(" (")[0] for line in found] == ["dark: color-contrast",
                                                       "dark: image-alt"]
