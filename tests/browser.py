"""Finding and launching Chromium for the browser tests.

Under ``CI=true`` a missing browser fails the run; elsewhere the browser tests skip
with the reason, so a developer without one still gets the other results.
"""

from __future__ import annotations

import os
import shutil

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Flags that keep a headless Chromium off the network and quiet on a closed machine.
ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Every request that is not for a loopback address goes to a proxy where nothing
# listens, so it fails at once and nothing leaves the machine (Chromium never sends
# loopback addresses to a proxy). Tests record such requests from the request event
# and fail on them: blocking by routing every request through Playwright instead
# would cost a round trip to Python per request and turn off the browser's cache.
OFFLINE = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,127.0.0.2,::1"}


def executable() -> str | None:
    """The system Chromium to use, or None to use Playwright's own download."""
    chosen = os.environ.get("FLOWLAB_CHROMIUM")
    if chosen:
        return chosen
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def launch(playwright):
    """Launch headless Chromium, or fail (CI) or skip (elsewhere) with the reason."""
    try:
        return playwright.chromium.launch(
            executable_path=executable(), headless=True, args=ARGS,
            chromium_sandbox=False, proxy=OFFLINE,
        )
    except Exception as exc:  # the browser is missing or will not start
        reason = f"no usable Chromium: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
