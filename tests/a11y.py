"""Accessibility audit with axe-core (bundled by axe-playwright-python, no network)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

SCRIPT = Axe().axe_script
SERIOUS = {"serious", "critical"}
# axe.run as axe-playwright-python calls it (every rule axe runs by default, node
# details for violations only), answering with the violations alone: the rest of
# its report is never read here, and carrying it to Python costs time.
RUN = "() => axe.run({resultTypes: ['violations']}).then((r) => r.violations)"


def serious_violations(page) -> list[str]:
    """Each serious or critical axe violation on the page, as readable text.

    axe is put into the page once per document: a second audit of the same page
    (in the other colour scheme, say) reuses it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(SCRIPT)
    found = []
    for violation in page.evaluate(RUN):
        if violation.get("impact") in SERIOUS:
            targets = [str(node["target"]) for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found
