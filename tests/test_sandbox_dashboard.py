"""The sandbox's developer dashboard over HTTP, and ``flask sandbox add-client``."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests

from flowlab.core.demo import device_app
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic

DEFAULT_GRANTS = ("authorization_code", "refresh_token")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = re.compile(r"/sandbox/dashboard/apps/([0-9a-f]{32})")


class Dashboard:
    """One browser's view of the dashboard."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.browser = requests.Session()

    def page(self, path: str = "/sandbox/dashboard") -> requests.Response:
        return self.browser.get(self.base + path, allow_redirects=False)

    def post(self, path: str, data: dict) -> requests.Response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.page().text)
        return self.browser.post(self.base + path, allow_redirects=False,
                                 data={"csrf_token": token.group(1), **data})

    def create(self, **fields) -> requests.Response:
        data = {"name": "My app", "redirect_uris": CALLBACK, "kind": "confidential",
                "grant": list(DEFAULT_GRANTS), **fields}
        return self.post("/sandbox/dashboard", data)


@pytest.fixture
def dashboard(live_server):
    return Dashboard(live_server.url)


def test_lists_the_demo_apps(dashboard, live_server):
    page = dashboard.page()
    assert page.status_code == 200
    sandbox = Sandbox(live_server.url, live_server.app.config)
    assert sandbox.web.client_id in page.text and sandbox.spa.client_id in page.text
    details = dashboard.page(f"/sandbox/dashboard/apps/{sandbox.web.client_id}")
    assert sandbox.web.client_secret not in details.text
    web_app = f"/sandbox/dashboard/apps/{sandbox.web.client_id}"
    shown = dashboard.post(f"{web_app}/secret", {})
    assert sandbox.web.client_secret in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    refused = dashboard.post(f"/sandbox/dashboard/apps/{sandbox.web.client_id}/delete",
                             {})
    assert refused.status_code == 403


def test_create_reveal_use_rotate_edit_delete(dashboard, live_server):
    created = dashboard.create(name="Café <b>app</b>",
                               grant=[*DEFAULT_GRANTS, "client_credentials"])
    assert created.status_code == 303
    client_id = CLIENT_ID.search(created.headers["Location"]).group(1)
    details = dashboard.page(f"/sandbox/dashboard/apps/{client_id}")
    assert "Café &lt;b&gt;app&lt;/b&gt;" in details.text
    secret = re.search(r'<code class="secret">([0-9a-f]{40})</code>', dashboard.post(
        f"/sandbox/dashboard/apps/{client_id}/secret", {}).text).group(1)
    sandbox = Sandbox(live_server.url, live_server.app.config)
    grant = {"grant_type": "client_credentials"}
    assert sandbox.token(grant, basic(client_id, secret)).status_code == 200
    rotated = dashboard.post(f"/sandbox/dashboard/apps/{client_id}/rotate", {})
    assert rotated.status_code == 303
    assert sandbox.token(grant, basic(client_id, secret)).status_code == 400
    uris = "https://app.example/cb\nhttp://[::1]:7000/cb"
    edited = dashboard.post(f"/sandbox/dashboard/apps/{client_id}/redirect-uris",
                            {"redirect_uris": uris})
    assert edited.status_code == 303
    page = dashboard.page(f"/sandbox/dashboard/apps/{client_id}")
    assert "https://app.example/cb\nhttp://[::1]:7000/cb</textarea>" in page.text
    confirm = dashboard.page(f"/sandbox/dashboard/apps/{client_id}/delete")
    assert "cannot be undone" in confirm.text
    deleted = dashboard.post(f"/sandbox/dashboard/apps/{client_id}/delete", {})
    assert deleted.status_code == 303
    assert dashboard.page(f"/sandbox/dashboard/apps/{client_id}").status_code == 404


@pytest.mark.parametrize("uri, reason", [
    ("http://localhost:3000/cb", "localhost is not allowed"),
    ("http://example.com/cb", "Plain http is allowed only for loopback"),
    ("https://app.example/cb#x", "must not contain a fragment"),
    ("javascript:alert(1)", "cannot receive a redirect"),
    ("/relative", "Not an absolute URI"),
    ("myapp:/cb", "reverse domain names"),
])
def test_registration_refuses_with_reasons_and_keeps_the_input(dashboard, uri, reason):
    response = dashboard.create(name="Kept name", redirect_uris=f"{CALLBACK}\n{uri}")
    assert response.status_code == 400 and "Please fix the problems" in response.text
    text = html.unescape(response.text)
    assert reason in text
    if "localhost" in uri or "example.com" in uri:
        assert "INVALID_CLIENT: Insecure redirect URI" in text
    assert 'value="Kept name"' in response.text
    assert f"{CALLBACK}\n{uri}</textarea>" in text


def test_other_browsers_cannot_see_my_apps(dashboard, live_server):
    created = dashboard.create(name="Private app")
    client_id = CLIENT_ID.search(created.headers["Location"]).group(1)
    stranger = Dashboard(live_server.url)
    assert client_id not in stranger.page().text
    assert stranger.page(f"/sandbox/dashboard/apps/{client_id}").status_code == 404
    assert stranger.post(f"/sandbox/dashboard/apps/{client_id}/secret",
                         {}).status_code == 404


def test_forms_need_the_csrf_token(dashboard):
    response = dashboard.browser.post(dashboard.base + "/sandbox/dashboard",
                                      data={"name": "x", "redirect_uris": CALLBACK})
    assert response.status_code == 400


def test_public_app_with_implicit(dashboard, live_server):
    created = dashboard.create(name="SPA", kind="public",
                               grant=["authorization_code", "implicit"])
    client_id = CLIENT_ID.search(created.headers["Location"]).group(1)
    page = dashboard.page(f"/sandbox/dashboard/apps/{client_id}")
    assert "implicit" in page.text and "Show client secret" not in page.text
    refused = dashboard.create(name="Web", kind="confidential",
                               grant=["authorization_code", "implicit"])
    assert "Only public apps may use the implicit grant" in refused.text


def test_cli_add_client(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sandbox", "add-client", "--name", "CLI app",
                                 "--redirect-uri", CALLBACK,
                                 "--redirect-uri", "https://app.example/cb"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert re.fullmatch(r"[0-9a-f]{32}", data["client_id"])
    assert len(data["client_secret"]) == 40
    assert data["redirect_uris"] == [CALLBACK, "https://app.example/cb"]
    public = json.loads(runner.invoke(args=[
        "sandbox", "add-client", "--name", "P", "--redirect-uri", CALLBACK,
        "--public"]).output)
    assert "client_secret" not in public and public["confidential"] is False
    bad = runner.invoke(args=["sandbox", "add-client", "--name", "B",
                              "--redirect-uri", "http://localhost/cb"])
    assert bad.exit_code != 0 and "localhost is not allowed" in bad.output


def grant_boxes(page: str) -> dict[str, bool]:
    """Each grant checkbox of the create form: checked or not, in page order."""
    tags = re.findall(r'<input type="checkbox" name="grant"[^>]*>', page)
    return {re.search(r'value="([^"]+)"', tag).group(1): " checked" in tag
            for tag in tags}


def test_the_form_offers_each_grant_by_its_registered_name(dashboard):
    page = dashboard.page().text
    assert grant_boxes(page) == {
        "authorization_code": True, "refresh_token": True,
        "client_credentials": False, DEVICE_GRANT: False, "implicit": False}
    text = " ".join(html.unescape(page).split())
    assert f"Device authorization <code>{DEVICE_GRANT}</code>" in text


def test_a_device_app_needs_no_redirect_uri(dashboard, live_server):
    created = dashboard.create(name="Living-room TV", kind="public",
                               redirect_uris="", grant=[DEVICE_GRANT, "refresh_token"])
    assert created.status_code == 303, created.text
    client_id = CLIENT_ID.search(created.headers["Location"]).group(1)
    page = dashboard.page(f"/sandbox/dashboard/apps/{client_id}")
    text = " ".join(html.unescape(page.text).split())
    assert f"Device authorization <code>{DEVICE_GRANT}</code>" in text
    assert "Refresh token <code>refresh_token</code>" in text
    assert "Authorization code <code>" not in text
    started = requests.post(live_server("/sandbox/api/device"), timeout=10,
                            data={"client_id": client_id, "scope": ""})
    assert started.status_code == 200, started.text
    saved = dashboard.post(f"/sandbox/dashboard/apps/{client_id}/redirect-uris",
                           {"redirect_uris": ""})
    assert saved.status_code == 303
    spa = dashboard.create(name="Browser app", kind="public")
    web = CLIENT_ID.search(spa.headers["Location"]).group(1)
    web_page = " ".join(html.unescape(dashboard.page(
        f"/sandbox/dashboard/apps/{web}").text).split())
    assert "Authorization code <code>authorization_code</code>" in web_page
    refused = requests.post(live_server("/sandbox/api/device"), timeout=10,
                            data={"client_id": web, "scope": ""})
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    emptied = dashboard.post(f"/sandbox/dashboard/apps/{web}/redirect-uris",
                             {"redirect_uris": ""})
    assert emptied.status_code == 400
    assert "Add at least one redirect URI" in emptied.text


@pytest.mark.parametrize("fields, message", [
    ({"grant": ["authorization_code", "password"]}, "Unknown grant type “password”"),
    ({"grant": []}, "Choose at least one grant."),
    ({"kind": "public", "grant": ["authorization_code", "client_credentials"]},
     "Only confidential apps may use client credentials"),
    ({"grant": ["authorization_code", "refresh_token"], "redirect_uris": ""},
     "Add at least one redirect URI"),
])
def test_grant_mistakes_keep_what_was_typed(dashboard, fields, message):
    response = dashboard.create(name="Kept name", **fields)
    assert response.status_code == 400 and "Please fix the problems" in response.text
    assert message in html.unescape(response.text)
    assert 'value="Kept name"' in response.text
    assert f"{fields.get('redirect_uris', CALLBACK)}</textarea>" in response.text
    checked = [name for name, on in grant_boxes(response.text).items() if on]
    assert checked == [grant for grant in fields["grant"] if grant != "password"]
    kind = fields.get("kind", "confidential")
    assert f'name="kind" value="{kind}" checked>' in response.text


def test_the_demo_tv_app_keeps_the_device_grant(dashboard, live_server):
    tv = device_app(live_server.app.config)
    page = dashboard.page(f"/sandbox/dashboard/apps/{tv.client_id}")
    text = " ".join(html.unescape(page.text).split())
    assert f"Device authorization <code>{DEVICE_GRANT}</code>" in text
    assert "None: this app's grants send no one back to it." in text
