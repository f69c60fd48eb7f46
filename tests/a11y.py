"""Accessibility audit with axe-core (bundled by axe-playwright-python, no network)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

SCRIPT = Axe().axe_script
SERIOUS = {"serious", "critical"}
# axe.run as axe-playwright-python calls it (every rule axe runs by default, node
# details for violations only), answering with the violations alone: the rest of
# its report is never read here, and carrying it to Python costs time.
RUN = "() => axe.run({resultTypes: ['violations']}).then((r) => r.violations)"
# The same, with only the rules named (``options.runOnly``).
RUN_ONLY = """(rules) => axe.run({runOnly: {type: 'rule', values: rules},
  resultTypes: ['violations']}).then((r) => r.violations)"""
# Every rule axe runs by default whose answer can depend on colours (axe 4.12):
# contrast (colours, and font size and weight for large text), a link told from
# its text by colour or style, and the table rule that applies to data tables,
# which axe tells from layout tables partly by rows' background colours. A second
# audit of the same page in the other colour scheme runs these; see
# docs/testing.md, "Dark mode audits the colour rules".
COLOUR_RULES = ("color-contrast", "link-in-text-block", "th-has-data-cells")
# Where every element of the page is and how big (its box, its client and scroll
# sizes), kept on the page's window when ``keep``; whether it is the kept layout.
LAYOUT = """(keep) => {
  const layout = [...document.querySelectorAll('*')].map((el) => {
    const box = el.getBoundingClientRect();
    return [box.x + scrollX, box.y + scrollY, box.width, box.height, el.clientWidth,
            el.clientHeight, el.scrollWidth, el.scrollHeight].join();
  }).join(';');
  if (keep) window.__auditedLayout = layout;
  return window.__auditedLayout === layout;
}"""


def serious_violations(page, rules: tuple[str, ...] | None = None) -> list[str]:
    """Each serious or critical axe violation on the page, as readable text: of
    every rule axe runs by default, or of ``rules`` only.

    axe is put into the page once per document: a second audit of the same page
    (in the other colour scheme, say) reuses it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(SCRIPT)
    found = []
    violations = page.evaluate(RUN_ONLY, list(rules)) if rules else page.evaluate(RUN)
    for violation in violations:
        if violation.get("impact") in SERIOUS:
            targets = [str(node["target"]) for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def in_schemes(page, schemes: tuple[str, ...]) -> list[str]:
    """``serious_violations`` of the page in each colour scheme, one after the
    other, as "scheme: violation": every rule in the first scheme; in the others,
    the colour rules, or every rule again if the page is not laid out exactly as in
    the first (the same document, so the other rules would read the same)."""
    found = []
    for number, scheme in enumerate(schemes):
        page.emulate_media(color_scheme=scheme)
        same = page.evaluate(LAYOUT, number == 0)
        rules = COLOUR_RULES if number and same else None
        found += [f"{scheme}: {v}" for v in serious_violations(page, rules)]
    return found
