"""Rendered step pages, kept per process while nothing they show has changed.

A learner reloads the same step page all workshop long. The page is a function of
the run as saved (its id and version), the step viewed, the secrets this browser
holds for it, what the view worked out before rendering (pending, spent, the
branches) and this browser's session bits the page shows (its CSRF token, the
comparison it came from, large type). All of these make the key, so a page is
served again only to the browser it was rendered for, and only while it would
render the same. The caller looks it up after the ownership check.

Never kept: a revealed page (secrets in full: "keep no copy"), a page showing a
flashed message, a page with a countdown (``ready_in``: it follows the clock), a
page that made a CSRF token or widened the response's CSP while rendering.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict

from flask import request
from flask import session

from flowlab.web.security import csp_widened
from flowlab.web.session import current_app_itself
from flowlab.web.workshop import template_context

BUDGET = 8 * 1024 * 1024  # characters of HTML per app (a page: 20 to 50 thousand)
_CREATING = threading.Lock()


class Pages:
    """A least-recently-used store of rendered pages, bounded by their size."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self.pages: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            html = self.pages.get(key)
            if html is not None:
                self.pages.move_to_end(key)
            return html

    def put(self, key: str, html: str) -> None:
        if len(html) > self.budget // 4:
            return
        with self.lock:
            old = self.pages.pop(key, None)
            self.size += len(html) - (len(old) if old is not None else 0)
            self.pages[key] = html
            while self.size > self.budget:
                _, dropped = self.pages.popitem(last=False)
                self.size -= len(dropped)


_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by app


def _pages() -> Pages:
    """This app's store (not an ``app.extensions`` key: issue 19 keeps three)."""
    with _CREATING:
        return _STORES.setdefault(current_app_itself(), Pages())


def key(run, viewing: int, *, shared: str | None, reveal: bool, ready_in: int,
        **shown) -> str | None:
    """The key of this browser's page of ``run`` at step ``viewing``, or None when
    the page is not to be kept. ``shown``: what else the view passes the template
    that is not read from the run (context, pending, spent, branches, addresses)."""
    if reveal or ready_in or "_flashes" in session or "csrf" not in session:
        return None
    if csp_widened():
        return None
    parts = [run.id, run.version, viewing, shared, run.secrets, session["csrf"],
             session.get("compare_back"), template_context(), request.host_url,
             request.path, shown]
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def kept(page_key: str | None) -> str | None:
    """The page rendered earlier under ``page_key``, if it is still kept."""
    return _pages().get(page_key) if page_key else None


def keep(page_key: str | None, html: str) -> str:
    """Keep ``html`` under ``page_key`` unless rendering it changed what the key
    assumed (a CSRF token made, the CSP widened, a message flashed); ``html``."""
    if (page_key and "csrf" in session and "_flashes" not in session
            and not csp_widened()):
        _pages().put(page_key, html)
    return html
