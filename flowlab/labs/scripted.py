"""The attacker's own trip through the sandbox, scripted: sign in, agree, keep the
redirect back unfollowed (RFC 6749 §4.1.1, §4.1.2), every message captured."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests

from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.labs.store import Run

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(response: requests.Response) -> str:
    found = CSRF.search(response.text)
    if not found:
        raise RuntimeError("the sandbox page had no form token")
    return found.group(1)


def _get(session: requests.Session, method: str, url: str, **kwargs):
    """One request; a redirect is the answer, not followed (the capture adapter
    raises ``TooManyRedirects`` with it)."""
    try:
        return session.request(method, url, allow_redirects=False, **kwargs)
    except requests.TooManyRedirects as exc:
        return exc.response


def code_for(run: Run, config: Mapping, params: dict, user: str,
             issuer: str = "/sandbox") -> str:
    """Sign in to the sandbox (its issuer at the path ``issuer``) as ``user``,
    agree, and return the ``Location`` the sandbox answered with, carrying a fresh
    code that nobody has redeemed."""
    session = capture_session(requests.Session())
    timeout = config["HTTP_TIMEOUT"]
    authorize = run.backchannel + issuer + "/authorize?" + urlencode(params)
    path = urlsplit(authorize)
    target = path.path + "?" + path.query

    def send(key: str, method: str, url: str, **kwargs) -> requests.Response:
        response = _get(session, method, url, timeout=timeout, **kwargs)
        run.record(key, "attacker", "front", exchange_of(session, response))
        return response

    page = send("attacker-authorize", "GET", authorize)
    send("attacker-login", "POST", run.backchannel + "/sandbox/login",
         data={"csrf_token": _csrf(page), "user": user, "next": target})
    consent = _get(session, "GET", authorize, timeout=timeout)
    if consent.is_redirect:  # agreed before: the code comes at once
        run.record("attacker-consent", "attacker", "front",
                   exchange_of(session, consent))
        return consent.headers["Location"]
    answer = send("attacker-consent", "POST", authorize,
                  data={"csrf_token": _csrf(consent), "decision": "agree"})
    return answer.headers["Location"]


def ask(run: Run, config: Mapping, url: str, key: str) -> None:
    """What the sandbox answers ``url`` (a crafted authorization request) for a
    browser not signed in, recorded under ``key``: its sign-in page, or an error
    page that redirects nowhere (RFC 6749 §4.1.2.1)."""
    session = capture_session(requests.Session())
    where = urlsplit(url)
    response = _get(session, "GET", f"{run.backchannel}{where.path}?{where.query}",
                    timeout=config["HTTP_TIMEOUT"])
    run.record(key, "victim", "front", exchange_of(session, response))
