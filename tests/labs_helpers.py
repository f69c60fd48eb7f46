"""Playing the labs over plain HTTP: a victim's requests session, the attacker's."""

from __future__ import annotations

import html
import re

import requests

from flowlab.web.session import services

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ATTACKER_LINK = re.compile(r'href="(http://127\.0\.0\.2:\d+/labs/[^"]+)"')


def form_token(page: requests.Response) -> str:
    return CSRF.search(page.text).group(1)


def start(victim: requests.Session, server, lab: str, variant: str) -> str:
    """Start a run as the victim; return the attacker's page URL for it."""
    page = victim.get(server(f"/labs/{lab}/{variant}"))
    run_page = victim.post(server(f"/labs/{lab}/{variant}/start"),
                           data={"csrf_token": form_token(page)})
    assert run_page.status_code == 200
    return html.unescape(ATTACKER_LINK.search(run_page.text).group(1))


class StoredRun:
    """A lab run as the database holds it now: every attribute read fetches the run
    again, as the next request (in any worker) would."""

    def __init__(self, store, run_id: str) -> None:
        self._store, self._id = store, run_id

    def __getattr__(self, name: str):
        run = self._store.get(self._id)
        assert run is not None, f"lab run {self._id} is not stored"
        return getattr(run, name)


def run_of(server, attacker_url: str) -> StoredRun:
    """The run behind an attacker URL, from the lab's store (what was captured)."""
    return StoredRun(services(server.app).labs.store,
                     attacker_url.rsplit("/", 1)[1])


def status(entry) -> int:
    return int(entry.exchange.response.start_line.split(" ")[1])


def sign_in(victim: requests.Session, server, lab: str, variant: str, user: str,
            decision: str = "agree"):
    """The victim signs in with the sandbox through the lab client, and agrees
    (or, with ``decision="cancel"``, cancels)."""
    login = victim.get(server(f"/labs/{lab}/{variant}/login"))
    return decide(victim, server, login, user, decision)


def decide(browser: requests.Session, server, page: requests.Response, user: str,
           decision: str = "agree"):
    """At the sandbox's sign-in page for an authorization request: sign in as
    ``user``, then agree or cancel (a consent given before is not asked again)."""
    consent = browser.post(server("/sandbox/login"), data={
        "csrf_token": form_token(page), "user": user,
        "next": page.url.split(server(""), 1)[1]})
    if "decision" in consent.text:
        consent = browser.post(consent.url, data={
            "csrf_token": form_token(consent), "decision": decision})
    return consent


VERDICT = re.compile(r'id="verdict"[^>]*data-verdict="(\w+)"[^>]*>([^<]*)<')


def verdict(browser: requests.Session, server, lab: str, variant: str) -> str:
    """What the run page says: "succeeded", "failed" or "undecided", checked
    against the words it shows."""
    found = VERDICT.search(browser.get(server(f"/labs/{lab}/{variant}")).text)
    assert found, "the run page shows no verdict"
    said = {"succeeded": "Attack succeeded", "failed": "Attack failed",
            "undecided": "Not decided yet"}[found.group(1)]
    assert html.unescape(found.group(2)).startswith(said), found.group(2)
    return found.group(1)


def save(browser: requests.Session, server, *on: str) -> requests.Response:
    """Save this browser's weak server at /weak-server with the switches ``on``
    (a plain form)."""
    page = browser.get(server("/weak-server"))
    return browser.post(server("/weak-server"), data={"csrf_token": form_token(page),
                                                      "switch": list(on)})
