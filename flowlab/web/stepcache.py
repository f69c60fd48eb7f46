"""Rendered step pages, kept per process while nothing they show has changed.

A learner reloads the same step page all workshop long. The page is a function of
the run's row (its stamp, ``flowlab.core.runner.stamps``: the version every save
and claim bumps, the claim, the branches made from it), the step asked for, the
secrets this browser holds for it where the row does not hold them, the addresses
this request and the config give, and this browser's session bits the page shows
(its CSRF token, the comparison it came from, large type). All of these make the
key, so a page is served again only to the browser it was rendered for, and only
while it would render the same. The key of a run's page is worked out from its
stamp alone, before the steps are loaded, and looked up after the ownership check.

Never kept: a revealed page (secrets in full: "keep no copy"), a page showing a
flashed message, a page with a countdown (it follows the clock) or a claim that
may still be running (``claims.settled``), a page that made a CSRF token or
widened the response's CSP while rendering.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from typing import NamedTuple

from flask import request
from flask import session

from flowlab.core.runner.stamps import Stamp
from flowlab.web.security import csp_widened
from flowlab.web.session import app_config
from flowlab.web.session import current_app_itself
from flowlab.web.workshop import template_context

BUDGET = 8 * 1024 * 1024  # characters of HTML per app (a page: 20 to 50 thousand)
_CREATING = threading.Lock()
ADDRESSES = ("PUBLIC_URL", "SANDBOX_URL", "SANDBOX_BACKCHANNEL_URL")  # config keys


class Page(NamedTuple):
    """A rendered step page, and the step it shows as the session notes it."""

    html: str
    seen: list


class Pages:
    """A least-recently-used store of rendered pages, bounded by their size."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self.pages: OrderedDict[str, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        if len(page.html) > self.budget // 4:
            return
        with self.lock:
            old = self.pages.pop(key, None)
            self.size += len(page.html) - (len(old.html) if old is not None else 0)
            self.pages[key] = page
            while self.size > self.budget:
                _, dropped = self.pages.popitem(last=False)
                self.size -= len(dropped.html)


_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by app


def _pages() -> Pages:
    """This app's store (not an ``app.extensions`` key: issue 19 keeps three)."""
    app = current_app_itself()
    pages = _STORES.get(app)
    if pages is None:
        with _CREATING:
            pages = _STORES.setdefault(app, Pages())
    return pages


def key(stamp: Stamp, *, shared: str | None = None, reveal: bool = False,
        held: list | None = None) -> str | None:
    """The key of this browser's page of the run ``stamp`` stamps, at the step this
    request asks for, or None when the page is not to be kept. ``held``: what this
    browser holds for a run whose row does not (its secrets, the client secret)."""
    if reveal or "_flashes" in session or "csrf" not in session:
        return None
    if csp_widened():
        return None
    config = app_config()
    parts = [stamp.id, stamp.version, stamp.claim, stamp.branches,
             request.args.get("step"), shared, held, session["csrf"],
             session.get("compare_back"), template_context(), request.scheme,
             request.host, request.script_root, request.path,
             [config.get(name) for name in ADDRESSES]]
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def kept(page_key: str | None) -> Page | None:
    """The page rendered earlier under ``page_key``, if it is still kept."""
    return _pages().get(page_key) if page_key else None


def keep(page_key: str | None, page: Page) -> Page:
    """Keep ``page`` under ``page_key`` unless rendering it changed what the key
    assumed (a CSRF token made, the CSP widened, a message flashed); ``page``."""
    if (page_key and "csrf" in session and "_flashes" not in session
            and not csp_widened()):
        _pages().put(page_key, page)
    return page
