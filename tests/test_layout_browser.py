"""Every GET page of the app, walked from its URL map, in a real Chromium: nothing
sticks out at 390 px, and axe (colour contrast included) passes in normal and large
type, light and dark; one server, one browser context per part of the walk. Then
what the layout review found: focus after the large-type switch, the room's headers
in large type, the step list's states."""

from __future__ import annotations

import re
import weakref
from html import unescape
from typing import NamedTuple
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect
from werkzeug.exceptions import NotFound

from tests.a11y import in_schemes
from tests.conftest import outside_loopback
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.test_browser_pages import OWN_PAGES

pytestmark = pytest.mark.browser

FLOWS = ("authorization-code", "authorization-code-pkce", "client-credentials",
         "implicit", "device-authorization")
# GET rules that answer no page a person reads, with why.
NOT_PAGES = {
    "/static/<path:filename>": "CSS, scripts and images",
    "/runs/<run_id>/export.<fmt>": "downloads (text files, not HTML)",
    "/shared/<token>/export.<fmt>": "a shared run's downloads (text files)",
    "/api/advice": "JSON API",
    "/api/advice/questions": "JSON API",
    "/presenter/now.json": "JSON polled by presenter.js",
    "/presenter/room.json": "JSON polled by presenter.js",
    "/presenter/room.csv": "a download (the room's results as CSV)",
    "/api/exercises": "JSON API",
    "/run/mcp/client-metadata.json": "JSON a server fetches (the MCP agent's client "
                                     "ID metadata document)",
    "/api/exercises/attempts/<attempt_id>": "JSON polled by exercises.js",
    "/labs/<lab_id>/<variant>/api/v1/<endpoint>": "JSON API (a lab's own weak "
                                                  "music API, flowlab.labs.resource)",
    "/sandbox/fapi2/device/approve": "the device approval page of every issuer is one "
                                     "template, walked under best practice",
    "/sandbox/lab-redirect-uri/device/approve": "the same template, under a lab "
                                                "issuer's path",
}
# Lab issuers with pages serve the sandbox's own templates at their own path: the
# walk takes them once, under /sandbox/lab-redirect-uri; each lab's weak page is
# played, with axe, in that lab's browser test.
LAB_ISSUERS = ("pkce-downgrade", "open-redirect", "proxy-page", "weak",
               "device-code-phishing", "consent-clickjacking", "registration-abuse")
NOT_PAGES.update({f"/sandbox/lab-{lab}{path}": "the sandbox's templates at a lab "
                  "issuer's path, walked under /sandbox/lab-redirect-uri"
                  for lab in LAB_ISSUERS
                  for path in ("/", "/authorize", "/device", "/device/approve")})
# A lab issuer with pages has the registration API's routes too (JSON, RFC 7592).
NOT_PAGES.update({f"/sandbox/lab-{lab}/api/register/<client_id>": "JSON API"
                  for lab in ("redirect-uri", *LAB_ISSUERS)})
NOT_PAGE_PREFIXES = (  # the sandbox's machine endpoints: JSON for apps, not people
    "/.well-known/", "/sandbox/.well-known/", "/sandbox/best-practice/.well-known/",
    "/sandbox/api/", "/sandbox/best-practice/api/", "/sandbox/v1/",
    "/sandbox/best-practice/v1/", "/sandbox/fapi2/.well-known/", "/sandbox/fapi2/api/",
    "/sandbox/fapi2/v1/",
)


class Mode(NamedTuple):
    """How a browser looks at every page, and what is checked there."""

    width: int
    height: int
    large: bool  # large type, as the workshop page's switch sets it
    overflow: bool  # nothing wider than the screen
    schemes: tuple[str, ...]  # axe in each colour scheme (``a11y.in_schemes``)


LIGHT_AND_DARK = ("light", "dark")  # the site has a dark theme (prefers-color-scheme)
MODES = {
    "phone": Mode(390, 844, large=False, overflow=True, schemes=LIGHT_AND_DARK),
    "phone-large": Mode(390, 844, large=True, overflow=True, schemes=()),
    "projector": Mode(1280, 720, large=True, overflow=False, schemes=LIGHT_AND_DARK),
}

# Elements whose right edge passes the viewport's (inside a scrolling box is fine).
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll') return true;
    }
    return false;
  };
  return [...document.querySelectorAll('body *:not(svg *)')]
    .filter((el) => el.getClientRects().length
            && el.getBoundingClientRect().right > width + 1 && !scrolls(el))
    .map((el) => el.tagName.toLowerCase()
         + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))
    .slice(0, 5);
}"""

# Words of column headers split over two lines (a header broken letter by letter);
# a break after a hyphen is a break between words.
BROKEN_WORDS = """(cells) => [...document.querySelectorAll(cells)].flatMap((th) => {
  const broken = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (const word of node.data.matchAll(/[^\\s-]+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
  return broken;
})"""


def _csrf(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


class Pages:
    """The URLs to visit: ``fresh`` ones in a browser new to the lab, then the rest
    as an attendee whose runs, lab runs and sandbox app they are."""

    def __init__(self, server) -> None:
        self.server = server
        self.attendee = requests.Session()
        self.fresh: list[str] = []
        self.mine: list[str] = []

    def runner(self, flow_id: str) -> FlowRunner:
        runner = FlowRunner(self.server)
        runner.session = self.attendee  # one browser, many runs
        return runner.start(flow_id)

    def build(self) -> Pages:
        self.fresh += [*OWN_PAGES, "/compare", "/glossary", "/inspect", "/provider",
                       "/run/",
                       *[f"/run/{flow}" for flow in FLOWS], "/run/callback",
                       "/run/sign-in-oidc",  # not offered at the Spotify-like issuer
                       "/run/callback/" + "x" * 20, "/workshop", "/presenter",
                       "/presenter/room", "/presenter/reset", "/labs/",
                       "/presenter/room/leaderboard", "/room/nickname",
                       "/sandbox/", "/sandbox/profiles", "/sandbox/best-practice/",
                       "/sandbox/lab-redirect-uri/", "/sandbox/device",
                       "/sandbox/best-practice/device", "/sandbox/dashboard",
                       "/sandbox/best-practice/authorize", "/sandbox/fapi2/",
                       "/sandbox/fapi2/device", "/sandbox/fapi2/authorize",
                       "/sandbox/lab-redirect-uri/authorize",
                       "/sandbox/lab-redirect-uri/device",
                       "/weak-server",
                       "/sandbox/authorize?client_id=nobody", "/inspect/report",
                       "/inspect/report?" + urlencode(
                           {"issuer": self.server("/sandbox/fapi2")})]
        self.fresh += ["/inspect/jwt", "/inspect/value", "/inspect/value?what=at_hash"]
        self._runs()
        self._console()
        self._waiting_runs()
        self._labs()
        self._dashboard()
        form = self.attendee.get(self.server("/room/nickname"), timeout=10)
        self.attendee.post(self.server("/room/nickname"), timeout=10, data={
            "csrf_token": _csrf(form), "nickname": "A nickname to fit"})
        self._exercises()
        self.mine += ["/presenter", "/presenter/room", "/presenter/reset",
                      "/presenter/room/leaderboard", "/room/nickname",
                      "/workshop", "/provider", "/"]
        return self

    def _runs(self) -> None:
        """Every step of a finished run of every flow, and a comparison."""
        for flow in FLOWS:
            runner = self.runner(flow)
            runner.run_all()
            self.mine += [f"{runner.run_url}?step={n}"
                          for n in range(1, runner.step_count() + 1)]
            if flow == "authorization-code":
                self._branch(runner)
                inspect = "/inspect/run/" + runner.run_url.rsplit("/", 1)[1]
                self.mine += [inspect + "/1/0", inspect + "/4/2"]  # URL, answer
        self.mine.append(f"/compare?run={runner.run_url.rsplit('/', 1)[1]}")
        self._kept(runner)

    def _kept(self, runner: FlowRunner) -> None:
        """A finished run imported from its JSON export, then read; its share
        links, and its shared view as anyone with the link sees it (fresh)."""
        s = self.server
        export = self.attendee.get(runner.run_url + "/export.json", timeout=10)
        form = self.attendee.get(s("/runs/import"), timeout=10)
        done = self.attendee.post(s("/runs/import"), data={"csrf_token": _csrf(form)},
                                  files={"file": ("run.json", export.content)},
                                  allow_redirects=False, timeout=30)
        imported = done.headers["Location"]
        made = submit(self.attendee, self.attendee.get(runner.run_url, timeout=10),
                      "Create a share link")
        links = urlsplit(made.headers["Location"]).path
        shown = self.attendee.get(s(links), timeout=10)
        shared = urlsplit(re.search(r'href="([^"]+/shared/[\w-]+)"',
                                    shown.text).group(1)).path
        self.fresh += ["/runs/import", shared, shared + "?step=1"]
        self.mine += [imported, imported + "?step=1", links]

    def _console(self) -> None:
        """The API console of a finished code run: an endpoint picked, and an
        answer (a 401 explained: the run's last steps revoked its token)."""
        runner = self.runner("authorization-code")
        runner.run_all()
        console = runner.run_url + "/console"
        page = self.attendee.get(console, timeout=10)
        sent = submit(self.attendee, page, "Send", method="GET", path="/v1/me",
                      query="", headers="", body="", token="run")
        answer = urlsplit(sent.headers["Location"])
        self.mine += [console + "?use=my-playlists", f"{answer.path}?{answer.query}"]

    def _branch(self, runner: FlowRunner) -> None:
        """Edit and send on the token step (the code sent twice): the form, and
        the branch beside its original."""
        edit = f"{runner.run_url}/steps/4/edit"
        form = self.attendee.get(self.server(urlsplit(edit).path), timeout=10)
        sent = submit(self.attendee, form, "Send")
        self.mine += [edit, urlsplit(sent.headers["Location"]).path]

    def _waiting_runs(self) -> None:
        """A run at the provider's door: its login (fresh) and consent pages; a
        device run waiting for approval, and the phone's consent page for it."""
        waiting = self.runner("authorization-code")
        while "/authorize?" not in (waiting.next_link() or ""):
            waiting.next()
        self.fresh.append(waiting.next_link())
        self.mine += [waiting.run_url, waiting.next_link() + "&show_dialog=true"]
        device = self.runner("device-authorization")
        while 'id="device-link"' not in device.page.text:
            device.next()
        self.mine.append(device.run_url)
        link = re.search(r'<a id="device-link"[^>]*href="([^"]+)"', device.page.text)
        code = re.search(r'class="device-code mono"><strong>([^<]+)', device.page.text)
        entry = self.attendee.get(unescape(link.group(1)), timeout=10)
        approve = submit(self.attendee, entry, "Continue",
                         user_code=unescape(code.group(1)))
        self.mine += [urljoin(approve.url, approve.headers["Location"]),
                      "/sandbox/best-practice/device/approve"]

    def _labs(self) -> None:
        """Every lab, both variants started, and the run against the attendee's
        weak server (every switch on) where one opens it; one sign-in and one
        callback."""
        s = self.server
        builder = self.attendee.get(s("/weak-server"), timeout=10)
        self.attendee.post(s("/weak-server"), timeout=10, data={
            "csrf_token": _csrf(builder),
            "switch": re.findall(r'name="switch" value="([a-z-]+)"', builder.text)})
        self.mine += ["/weak-server", "/labs/code-replay"]  # "Run against your server"
        for lab in re.findall(r'href="/labs/([a-z-]+)"',
                              self.attendee.get(s("/labs/"), timeout=10).text):
            self.fresh.append(f"/labs/{lab}")
            yours = "Run against your server" in self.attendee.get(
                s(f"/labs/{lab}"), timeout=10).text
            for variant in ("vulnerable", "defended", *(["yours"] if yours else [])):
                page = self.attendee.get(s(f"/labs/{lab}/{variant}"), timeout=10)
                self.attendee.post(s(f"/labs/{lab}/{variant}/start"),
                                   data={"csrf_token": _csrf(page)}, timeout=10)
                self.mine.append(f"/labs/{lab}/{variant}")
        self.mine += ["/labs/csrf-state/vulnerable/login",
                      "/labs/csrf-state/defended/callback?code=x&state=y",
                      "/labs/proxy-page/defended/page/proxy"]

    def _dashboard(self) -> None:
        """An app of this browser's own in the sandbox's dashboard."""
        s = self.server
        board = self.attendee.get(s("/sandbox/dashboard"), timeout=10)
        created = self.attendee.post(s("/sandbox/dashboard"), allow_redirects=False,
                                     timeout=10, data={
            "csrf_token": _csrf(board), "name": "My app", "kind": "confidential",
            "redirect_uris": s("/run/callback"),
            "grant": ["authorization_code", "refresh_token"]})
        app_page = urlsplit(created.headers["Location"]).path
        self.mine += [app_page, app_page + "/delete"]

    def _exercises(self) -> None:
        """The exercises, one of each client type, and this browser's attempts at
        them (a public app's page, and a confidential one's with its secret)."""
        s = self.server
        self.fresh += ["/exercises", "/exercises/pkce-script",
                       "/exercises/redeem-with-curl"]
        for exercise in ("pkce-script", "redeem-with-curl"):
            page = self.attendee.get(s(f"/exercises/{exercise}"), timeout=10)
            started = self.attendee.post(
                s(f"/exercises/{exercise}/attempts"), allow_redirects=False,
                data={"csrf_token": _csrf(page)}, timeout=10)
            self.mine.append(urlsplit(started.headers["Location"]).path)
        self.mine += ["/exercises", "/exercises/pkce-script"]

    def cookies(self) -> list[dict]:
        return [{"name": c.name, "value": c.value, "url": self.server.url}
                for c in self.attendee.cookies]


_built: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@pytest.fixture
def pages(live_server) -> Pages:
    """The pages, made once per test process on its live server, then only read:
    the parts of the walk below run in whichever process is free (``make test``
    runs several), each making the pages there once."""
    if live_server not in _built:
        _built[live_server] = Pages(live_server).build()
    return _built[live_server]


def test_every_get_route_is_visited_or_excluded_with_a_reason(pages, live_server):
    """A new GET route fails here until this module visits it (or says why not)."""
    adapter = live_server.app.url_map.bind("127.0.0.1")
    visited = set()
    for url in pages.fresh + pages.mine:
        parts = urlsplit(url)
        try:
            rule, _ = adapter.match(parts.path, "GET", return_rule=True)
        except NotFound:  # the not-found page
            continue
        visited.add(rule.rule)
    missing = [
        rule.rule for rule in live_server.app.url_map.iter_rules()
        if "GET" in rule.methods and rule.rule not in visited
        and rule.rule not in NOT_PAGES and not rule.rule.startswith(NOT_PAGE_PREFIXES)
    ]
    assert missing == [], "visit these pages below, or list them in NOT_PAGES"
    assert not set(NOT_PAGES) & visited


def _context(chromium, mode: Mode, pages: Pages, cookies: bool):
    """A browser context in ``mode`` (as the attendee, with ``cookies``) that logs
    console errors on its page, and requests leaving loopback as errors too (the
    browser refuses them: ``browser.OFFLINE``)."""
    context = chromium.new_context(viewport={"width": mode.width,
                                             "height": mode.height})
    if cookies:
        context.add_cookies(pages.cookies())
    if mode.large:
        context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                              "url": pages.server.url}])
    page = context.new_page()
    page.console_errors = []
    context.on("request", lambda request: page.console_errors.extend(
        f"request outside loopback: {url}" for url in outside_loopback(request.url)))

    def on_console(msg) -> None:  # as conftest's page fixture: a page's own error
        own = ("the server responded with a status of" in msg.text  # status is
               and msg.location.get("url") == page.url)  # what its test checks
        if msg.type == "error" and not own:
            page.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


def _problems(page, url: str, mode: Mode) -> list[str]:
    """What is wrong with the page at ``url`` in ``mode``, as readable lines."""
    problems = []
    page.console_errors.clear()
    page.goto(url)
    if mode.overflow:
        wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        if wide > 0:
            problems.append(f"{wide} px wider than the screen")
        out = page.evaluate(STICKING_OUT)
        if out:
            problems.append(f"sticking out: {out}")
    if mode.large and not mode.overflow:
        broken = page.evaluate(BROKEN_WORDS, "main thead th")
        if broken:
            problems.append(f"header words broken over lines: {broken}")
    backgrounds = set()
    for scheme in mode.schemes:
        page.emulate_media(color_scheme=scheme)
        backgrounds.add(page.evaluate("getComputedStyle(document.body).background"))
    if len(backgrounds) < len(mode.schemes):
        problems.append("the dark theme did not apply")
    problems += in_schemes(page, mode.schemes)  # the same page, light then dark
    problems += [f"console: {error}" for error in page.console_errors]
    return problems


# The walk in parts, each in a browser context of its own: the pages of a browser
# new to the lab, then the attendee's, each in two (every other page, in their
# order, so that the costly step pages, listed together, fall to both), so that a
# part takes seconds, not minutes, and the parts share the test processes.
PARTS = {"fresh-1": (False, 0), "fresh-2": (False, 1), "mine-1": (True, 0),
         "mine-2": (True, 1)}


@pytest.mark.parametrize("part", list(PARTS))
@pytest.mark.parametrize("mode", list(MODES))
def test_every_page_fits_and_passes_axe(chromium, pages, live_server, mode, part):
    cookies, half = PARTS[part]
    urls = pages.mine if cookies else pages.fresh
    urls = urls[half::2]
    found = {}
    context, page = _context(chromium, MODES[mode], pages, cookies)
    try:
        for url in urls:
            full = live_server(url) if url.startswith("/") else url
            problems = _problems(page, full, MODES[mode])
            if problems:
                found[url] = problems
    finally:
        context.close()
    assert urls
    assert found == {}, "\n".join(f"{url}: {found[url]}" for url in found)


def test_large_type_switch_keeps_the_keyboard_focus(page, live_server):
    """Switched from the keyboard, the page reloads with focus on the switch."""
    page.goto(live_server("/workshop"))
    for name, then in (("Large type for a projector", "Normal type"),
                       ("Normal type", "Large type for a projector")):
        page.get_by_role("button", name=name).focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        assert focused == then
        expect(page.get_by_role("button", name=then)).to_be_in_viewport()
        assert page.locator("p.flash[role=status]").count() == 1
    assert page.locator("html.large-type").count() == 0


# Tables wider than the card holding them.
OUT_OF_CARD = """() => [...document.querySelectorAll('.card table')].filter((table) =>
  table.getBoundingClientRect().right > table.closest('.card')
    .getBoundingClientRect().right + 1).map((table) => table.className)"""


@pytest.mark.only_reads
def test_room_headers_keep_their_words_whole_in_large_type(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.context.add_cookies([{"name": "flowlab_large_type", "value": "1",
                               "url": live_server.url}])
    page.goto(live_server("/presenter/room"))
    assert page.locator("html.large-type .room-table thead th").count() >= 10
    assert page.evaluate(BROKEN_WORDS, ".room-table th") == []
    assert page.evaluate(OUT_OF_CARD) == []


# Each step of the step list as the browser draws it.
STEP_LIST = """() => [...document.querySelectorAll('.run-steps li.run-step')].map(
  (li) => {
    const title = li.querySelector('a, .run-step-title');
    const state = li.querySelector('.step-state');
    const style = getComputedStyle(title);
    const box = state.getBoundingClientRect();
    return {link: title.tagName === 'A', current: title.getAttribute('aria-current'),
            state: state.innerText.trim(), shown: box.width > 1 && box.height > 1,
            underline: style.textDecorationLine.includes('underline'),
            color: style.color, cursor: style.cursor};
  })"""


@pytest.mark.only_reads
def test_step_list_states_in_words_and_only_links_look_like_links(page, live_server):
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()
    runner.authorize()
    page.context.add_cookies([{"name": c.name, "value": c.value,
                               "url": live_server.url}
                              for c in runner.session.cookies])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{runner.run_url}?step=1")
    steps = page.evaluate(STEP_LIST)
    link_color = page.evaluate(
        "getComputedStyle(document.querySelector('.run-steps a')).color")
    done = [s for s in steps if s["link"]]
    later = [s for s in steps if not s["link"]]
    assert len(done) >= 2 and len(later) >= 3
    assert all(s["shown"] for s in steps), "each state is written, not hidden"
    assert [s["current"] for s in steps].count("step") == 1
    assert steps[0]["current"] == "step" and steps[0]["state"] == "✓ done, shown here"
    assert all(s["state"].endswith("done") for s in done[1:])
    assert later[0]["state"] == "→ next"
    assert all(s["state"] == "to come" for s in later[1:])
    for step in later:  # not a link, and does not look like one
        assert not step["underline"] and step["cursor"] != "pointer"
        assert step["color"] != link_color
    assert all(s["underline"] for s in done)
