"""Drive the live runner over HTTP as a browser would: Next, log in, Agree."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urljoin

import requests

from tests.forms import submit


class FlowRunner:
    """One browser (its own cookies) running flows against a served app."""

    def __init__(self, server) -> None:
        self.server = server
        self.session = requests.Session()
        self.page: requests.Response | None = None
        self.run_url: str | None = None
        self.last_location = ""

    def get(self, url: str) -> requests.Response:
        self.page = self.session.get(url, timeout=10)
        return self.page

    def start(self, flow_id: str, **options) -> FlowRunner:
        """Start a run; ``options`` are start-form fields, e.g. ``pkce="off"``."""
        start = self.get(self.server(f"/run/{flow_id}"))
        self.page = self.follow(submit(self.session, start, "Start", **options))
        self.run_url = self.page.url.split("?")[0]
        return self

    def follow(self, response: requests.Response) -> requests.Response:
        """Follow redirects one by one (so the test can see each hop)."""
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            self.last_location = target
            response = self.session.get(target, allow_redirects=False, timeout=10)
        self.page = response
        return response

    def next_link(self) -> str | None:
        """Where the Next control leads, when it is a link rather than a form."""
        link = re.search(r'<a id="next"[^>]*href="([^"]+)"', self.page.text)
        return urljoin(self.page.url, unescape(link.group(1))) if link else None

    def next(self) -> requests.Response:
        """Click the Next control: a form button or the link to the provider."""
        link = self.next_link()
        if link:
            return self.follow(self.session.get(link, allow_redirects=False,
                                                timeout=10))
        return self.follow(submit(self.session, self.page, "Next"))

    def post_fragment(self) -> requests.Response:
        """Do what the callback page's script does: post the fragment to the app."""
        csrf = re.search(r'data-csrf="([^"]+)"', self.page.text).group(1)
        post = unescape(re.search(r'data-post="([^"]+)"', self.page.text).group(1))
        fragment = self.last_location.partition("#")[2]
        answer = self.session.post(urljoin(self.page.url, post),
                                   json={"fragment": fragment},
                                   headers={"X-CSRF-Token": csrf}, timeout=10)
        assert answer.status_code == 200, answer.text
        return self.get(urljoin(self.page.url, answer.json()["next"]))

    def authorize(self, user: str = "alice", agree: bool = True) -> requests.Response:
        """At the provider: log in as a demo user, then Agree or Cancel."""
        page = self.next()
        if "/runs/" in page.url:  # the provider answered without asking anything
            return page
        if "Agree" not in page.text:
            page = self.follow(submit(self.session, page, user))
        if "Agree" in page.text:
            page = submit(self.session, page, "Agree" if agree else "Cancel")
        return self.follow(page)

    def use_provider(self, button: str, **fields) -> requests.Response:
        """Choose where runs go on the provider page (``Use Spotify``, ...)."""
        page = self.get(self.server("/provider"))
        return self.follow(submit(self.session, page, button, **fields))

    def statuses(self) -> list[str]:
        """The step list's marks on the current page: "done" or "failed" each."""
        return re.findall(r'class="run-step run-step-(done|failed)"', self.page.text)

    def step_count(self) -> int:
        return len(re.findall(r'class="run-step run-step-(?:done|failed)"',
                              self.page.text))

    def approve_device(self, user: str = "alice", decision: str = "Agree"):
        """On a second "device": open the verification page the run links to, type
        the user code, log in and agree (RFC 8628 §3.3)."""
        phone = requests.Session()
        link = re.search(r'<a id="device-link"[^>]*href="([^"]+)"', self.page.text)
        code = re.search(r'class="device-code mono"><strong>([^<]+)', self.page.text)
        page = phone.get(unescape(link.group(1)), timeout=10)
        page = _follow(phone, submit(phone, page, "Continue",
                                     user_code=unescape(code.group(1))))
        if "Agree" not in page.text:
            page = _follow(phone, submit(phone, page, user))
        return submit(phone, page, decision)

    def poll_wait(self) -> int:
        """The seconds the step page says the device must still wait to poll."""
        found = re.search(r'id="poll-wait"[^>]*data-ready-in="(\d+)"', self.page.text)
        return int(found.group(1)) if found else 0

    def wait_to_poll(self) -> None:
        """Wait as long as the page says, as a learner would (RFC 8628 §3.5)."""
        time.sleep(self.poll_wait())

    def run_all(self, user: str = "alice") -> requests.Response:
        """Click Next until the run is over, logging in and agreeing when asked."""
        for _ in range(40):
            if "data-csrf=" in self.page.text:
                self.post_fragment()
            elif 'id="device-link"' in self.page.text:
                self.approve_device(user)
                self.wait_to_poll()
                self.next()
            elif 'id="next"' not in self.page.text:
                return self.page
            elif "/authorize?" in (self.next_link() or ""):
                self.authorize(user)
            else:
                self.wait_to_poll()
                self.next()
        raise AssertionError("the run did not end")


def _follow(session: requests.Session, response: requests.Response):
    """Follow a page's redirects in ``session``."""
    while response.is_redirect:
        response = session.get(urljoin(response.url, response.headers["Location"]),
                               allow_redirects=False, timeout=10)
    return response


def wire_text(html: str) -> str:
    """A page's text with its tags dropped in place, so that highlighted JSON
    reads as it went over the wire."""
    return unescape(re.sub(r"<[^>]+>", "", html))
