"""Take the README's screenshots: serve the app, walk it in headless Chromium.

    .venv/bin/python docs/screenshots.py   # writes docs/screenshots/*.png
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import browser  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.conftest import wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def run_to(page, base: str, flow: str, step: int) -> None:
    """Run ``flow`` to its end, then show step ``step``."""
    page.goto(f"{base}/run/{flow}")
    page.get_by_role("button", name="Start the run").click()
    while page.locator("#next").count():
        href = page.locator("#next").get_attribute("href") or ""
        page.locator("#next").click()
        page.wait_for_load_state()
        if "/authorize?" in href:
            if page.get_by_role("button", name=re.compile("Agree")).count() == 0:
                page.get_by_role("button", name=re.compile("alice", re.I)).click()
            page.get_by_role("button", name="Agree").click()
            page.wait_for_url(re.compile(r"/runs/"))
    page.goto(page.url.split("?")[0] + f"?step={step}")


def exercise(page, base: str) -> None:
    """An attempt at "Client credentials and a catalogue call", half done from
    the command line: the token came, the catalogue call has not."""
    page.goto(f"{base}/exercises/client-credentials")
    page.get_by_role("button", name="Start an attempt").click()
    page.get_by_text("Show the client secret").click()
    client = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    requests.post(page.locator("#issuer").inner_text() + "/api/token",
                  data={"grant_type": "client_credentials"}, auth=(client, secret),
                  timeout=10)
    expect(page.locator("#verdict")).to_contain_text("1 of 2", timeout=10_000)
    page.evaluate("() => window.scrollTo(0, 0)")


def edit_and_send(page, base: str, run: str) -> None:
    """The PKCE token request sent again without its code_verifier: the answer
    beside the original, what changed, and what the server said because of it."""
    page.goto(f"{base}/runs/{run}?step=4")
    page.get_by_role("link", name="Edit and send").click()
    row = page.locator("fieldset.edit-row", has=page.locator(
        "legend", has_text="code_verifier"))
    row.get_by_label("Remove").check()
    page.get_by_role("button", name="Send as a branch").click()
    expect(page.locator("#server-said")).to_contain_text("code_verifier required")


def shoot(page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print("wrote", OUT / f"{name}.png")


def keep_and_share(chromium, page, base: str, run: str, folder: Path) -> None:
    """A run shared by its link, as anyone sees it; the same run imported back
    from its JSON export."""
    page.goto(f"{base}/runs/{run}?step=4")
    page.get_by_role("button", name="Create a share link").click()
    link = page.locator(".share-link a").get_attribute("href")
    viewer = chromium.new_page(viewport={"width": 1280, "height": 900})
    viewer.goto(f"{link}?step=4")
    shoot(viewer, "runner-shared")
    viewer.close()
    export = folder / "run.json"
    export.write_bytes(page.request.get(f"{base}/runs/{run}/export.json").body())
    page.goto(base + "/runs/import")
    page.get_by_label("The run's JSON export").set_input_files(str(export))
    page.get_by_role("button", name="Import the run").click()
    page.wait_for_url(re.compile(r"/runs/[\w-]+$"))
    page.goto(page.url + "?step=4")
    shoot(page, "runner-imported")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {**os.environ, "FLOWLAB_SECRET_KEY": "screenshots",
               "FLOWLAB_SANDBOX_DATABASE": f"{folder}/s.sqlite3",
               "FLOWLAB_RUNS_DATABASE": f"{folder}/r.sqlite3"}
        server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(port, server)
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(
                    executable_path=browser.executable(), args=browser.ARGS)
                page = chromium.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + "/")
                shoot(page, "home")
                page.goto(base + "/advisor?acts_for_user=yes&runs_on=spa"
                          "&needs_refresh=yes")
                shoot(page, "advisor-result")
                run_to(page, base, "authorization-code-pkce", 1)
                shoot(page, "runner-pkce-verifier")
                page.goto(page.url.split("?")[0] + "?step=4")
                shoot(page, "runner-pkce")
                pkce_run = page.url.split("?")[0].rsplit("/", 1)[1]
                edit_and_send(page, base, pkce_run)
                shoot(page, "branch")
                run_to(page, base, "authorization-code", 10)
                shoot(page, "runner-code-reuse")
                code_run = page.url.split("?")[0].rsplit("/", 1)[1]
                page.goto(f"{base}/compare?run={code_run}&step=4&other={pkce_run}")
                shoot(page, "compare")
                keep_and_share(chromium, page, base, code_run, Path(folder))
                page.goto(f"{base}/run/device-authorization")
                page.get_by_role("button", name="Start the run").click()
                page.locator("#next").click()
                page.wait_for_load_state()
                shoot(page, "runner-device")
                page.goto(base + "/sandbox/profiles")
                shoot(page, "profiles")
                page.goto(base + "/labs/")
                shoot(page, "labs")
                page.goto(base + "/workshop")
                shoot(page, "workshop")
                run_to(page, base, "client-credentials", 4)
                shoot(page, "runner-client-credentials")
                run_to(page, base, "implicit", 3)
                shoot(page, "runner-implicit")
                # The implicit run's token lacks playlist-read-private: a 403.
                implicit_run = page.url.split("?")[0].rsplit("/", 1)[1]
                page.goto(f"{base}/runs/{implicit_run}/console?use=my-playlists")
                with page.expect_navigation():
                    page.get_by_role("button", name="Send").click()
                page.locator("#answer").scroll_into_view_if_needed()
                shoot(page, "console")
                exercise(page, base)
                shoot(page, "exercise")
                page.goto(base + "/presenter/room")
                shoot(page, "room")
                page.goto(base + "/inspect")
                page.get_by_label("What to inspect").fill(
                    base + "/sandbox/authorize?response_type=token&client_id=abc"
                    "&redirect_uri=http://localhost:8888/cb&scope=user-read-email")
                with page.expect_navigation():
                    page.get_by_role("button", name="Inspect").click()
                page.locator("h2", has_text="It is").evaluate(
                    "(e) => e.scrollIntoView({behavior: 'instant'})")
                shoot(page, "inspector")
                chromium.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
