"""A plain-``requests`` client for the sandbox: the independent client of the tests.

It drives the browser part (login and consent are form posts) by reading each page's
CSRF token and form action, as a browser would, and never follows redirects to the
client's redirect URI by itself.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs
from urllib.parse import quote_plus
from urllib.parse import urlsplit

import requests

from flowlab.core.demo import demo_apps

FORM = re.compile(r'<form method="post" action="([^"]+)"(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
CALLBACK = "http://127.0.0.1:8765/run/callback"


def basic(client_id: str, secret: str) -> dict:
    """An RFC 6749 §2.3.1 Basic header: form-urlencode, then Base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def pkce_pair() -> tuple[str, str]:
    """A fresh verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def query(location: str) -> dict[str, str]:
    """The query of a Location header, one value per name."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def fragment(location: str) -> dict[str, str]:
    """The fragment of a Location header, one value per name."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


class Sandbox:
    """The sandbox at ``base`` (ends before ``/sandbox``), seen by one browser."""

    def __init__(self, base: str, config) -> None:
        self.base = base.rstrip("/")
        self.issuer = self.base + "/sandbox"
        self.web, self.spa = demo_apps(config)
        self.browser = requests.Session()

    def url(self, path: str) -> str:
        return self.issuer + path

    def authorize(self, params: dict | list, user: str = "alice",
                  decision: str | None = "agree") -> requests.Response:
        """Run /authorize as a browser: log in, then agree or cancel if asked."""
        response = self.browser.get(
            self.url("/authorize"), params=params, allow_redirects=False
        )
        if response.status_code == 200 and 'name="user"' in response.text:
            response = self.submit(response, {"user": user})
            assert response.status_code == 303, response.text
            response = self.browser.get(
                self.base + response.headers["Location"], allow_redirects=False
            )
        if response.status_code == 200 and 'name="decision"' in response.text:
            if decision is None:
                return response
            response = self.submit(response, {"decision": decision})
        return response

    def approve(self, client, **extra) -> None:
        """The signed-in user agrees to ``client`` once, as on its first run, so
        that later errors for it come back at once rather than after the "Leave
        the sandbox?" page (RFC 9700 §4.11.2)."""
        challenge = {"code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}
        done = self.authorize({"response_type": "code", "client_id": client.client_id,
                               "redirect_uri": CALLBACK, "state": "approve",
                               "show_dialog": "true", **challenge, **extra})
        assert done.status_code == 303 and "code=" in done.headers["Location"]

    def submit(self, page: requests.Response, fields: dict) -> requests.Response:
        """Post the page's first form: its hidden inputs (CSRF...) and ``fields``."""
        form = FORM.search(page.text)
        hidden = {k: html.unescape(v) for k, v in HIDDEN.findall(form.group(2))}
        return self.browser.post(
            self.base + html.unescape(form.group(1)), data={**hidden, **fields},
            allow_redirects=False,
        )

    def code(self, client, redirect_uri: str = CALLBACK, **extra) -> str:
        """An authorization code for ``client`` with ``extra`` parameters."""
        params = {"response_type": "code", "client_id": client.client_id,
                  "redirect_uri": redirect_uri, "state": "s1", **extra}
        response = self.authorize(params)
        assert response.status_code in (302, 303), response.text
        return query(response.headers["Location"])["code"]

    def token(self, data: dict, auth: dict | None = None, **kwargs):
        """POST the token endpoint with a form body."""
        return requests.post(self.url("/api/token"), data=data, headers=auth or {},
                             **kwargs)

    def web_auth(self) -> dict:
        return basic(self.web.client_id, self.web.client_secret)

    def redeem(self, code: str, redirect_uri: str = CALLBACK) -> requests.Response:
        """Exchange a confidential demo app's code (RFC 6749 §4.1.3)."""
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri}
        return self.token(data, self.web_auth())

    def user_tokens(self, scope: str = "user-read-email") -> dict:
        """A full code flow for the web demo app; the token response as JSON."""
        response = self.redeem(self.code(self.web, scope=scope))
        assert response.status_code == 200, response.text
        return response.json()

    def api(self, path: str, token: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.get(self.url("/v1" + path), headers=headers, **kwargs)


def make_client(app, *, confidential: bool = True, uris=(CALLBACK,),
                implicit: bool = False):
    """Register an extra app straight in the store; returns (client, secret)."""
    from flowlab.sandbox import store

    with app.app_context(), store.DB.connection(app) as conn:
        return store.create_client(
            conn, app.config, name="Test app", redirect_uris=list(uris),
            confidential=confidential, implicit=implicit, owner="tests",
        )
