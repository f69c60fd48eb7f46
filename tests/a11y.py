"""Accessibility audit with axe-core (bundled by axe-playwright-python, no network)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    """Each serious or critical axe violation on the page, as readable text."""
    results = _axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [str(node["target"]) for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found
