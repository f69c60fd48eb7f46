"""Provider profiles: Spotify's wire format, discovery, credentials, failures."""

from __future__ import annotations

import base64
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urlencode

import pytest

from flowlab.core import discovery
from flowlab.core import providers
from flowlab.core import vault
from flowlab.core.content import Content
from flowlab.core.demo import demo_apps
from flowlab.core.provider import Provider
from flowlab.core.runner.callbacks import for_issuer
from flowlab.core.runner.flows import flow_from
from flowlab.core.runner.flows import load_flows
from flowlab.core.storage.db import make_engine
from flowlab.sandbox.store import create_client
from flowlab.web.session import lab_hosts
from tests import standin
from tests.flowrunner import FlowRunner
from tests.test_runner import STEPS

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "s3cr3t:with%odd=chars-0123456789"
ROOT = Path(__file__).resolve().parent.parent
FLOWS = load_flows(Content(ROOT / "content"))
REASONS = {k: k for k in ("no_secret", "no_code_grant", "no_s256",
                          "no_client_credentials", "no_implicit", "no_device_grant",
                          "no_device_client", "no_openid", "no_token_exchange")}



@pytest.fixture
def lab(serve, fake):
    """The lab with its Spotify profile pointed at the stand-in."""
    return serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url,
                 HTTP_TIMEOUT=1)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize(("url", "issuer"), [
    ("https://as.example/.well-known/oauth-authorization-server",
     "https://as.example"),
    ("https://as.example/.well-known/oauth-authorization-server/tenant",
     "https://as.example/tenant"),
    ("https://as.example/tenant/.well-known/openid-configuration",
     "https://as.example/tenant"),
])
def test_expected_issuer(url, issuer):
    assert discovery.expected_issuer(url) == issuer


@pytest.mark.parametrize("url", ["http://as.example/token", "ftp://x/y",
                                 "javascript:alert(1)", "http://localhost:5000/t"])
def test_plain_http_only_on_loopback(url, app):
    with app.test_request_context(), pytest.raises(providers.ProviderError):
        providers.manual("", "https://as.example/a", url, "", ("id", ""), "",
                         hosts=lab_hosts())


def test_offered_flows_follow_capabilities_and_secret():
    provider = Provider(grant_types=("authorization_code",), pkce_methods=("plain",),
                        response_types=("code",))
    offered = providers.offered(provider, False, REASONS, FLOWS.values())
    assert offered == {"authorization-code": "no_secret",
                       "authorization-code-pkce": "no_s256",
                       "client-credentials": "no_client_credentials",
                       "implicit": "no_implicit",
                       "device-authorization": "no_device_grant",
                       "sign-in-oidc": "no_openid",
                       "mcp": "no_s256",
                       "fapi2": "no_s256",
                       "token-exchange": "no_token_exchange"}


def test_offered_flows_are_computed_from_each_flows_declared_needs():
    """No table of flow ids: a flow's steps' actions say what a provider must list,
    so a new flow is judged by its data alone."""
    sandbox = Provider(kind="sandbox", grant_types=("authorization_code",))
    assert set(providers.offered(sandbox, False, REASONS, FLOWS.values()).values()) \
        == {None, "no_client_credentials", "no_device_grant",
            "no_openid", "no_token_exchange"}  # own secret counts; no OpenID provider
    data = Content(ROOT / "content").data("flows/implicit")
    token_only = flow_from({"id": "x", "name": "X"}, {**data, "client": "public"})
    needs = [(n.field, n.value) for n in token_only.requirements()]
    assert needs == [("response_types", "token")]
    listing_none = Provider(kind="discovered", response_types=())
    assert providers.offered(listing_none, True, {}, [token_only]) == {
        "x": "the provider does not list token in its response_types."}


def test_an_idle_hour_deletes_choices_and_run_secrets(app, monkeypatch):
    """Reading keeps a row alive; an hour without use deletes it."""
    clock = [1_000_000.0]
    monkeypatch.setattr("flowlab.core.vault.time.time", lambda: clock[0])
    monkeypatch.setattr("flowlab.core.vault._next_purge", 0.0)
    with app.test_request_context():
        vault.put_choice("browser", Provider(kind="spotify"), b"sealed secret")
        vault.put_sealed("run", "browser", b"sealed tokens")
        clock[0] += 3000
        assert vault.get_choice("browser") == (Provider(kind="spotify"),
                                               b"sealed secret")
        clock[0] += 3000  # an hour after the put, 50 minutes after the last read
        assert vault.get_choice("browser") is not None
        assert vault.get_sealed("run", "browser") is None  # idle since the put
        assert vault.get_sealed("run", "another browser") is None
        clock[0] += 3601
        assert vault.get_choice("browser") is None
        assert vault.expire_idle() == 0  # the reads above already deleted them


def test_spotify_requests_match_the_wire_spec(lab, fake):
    """Without PKCE, as in Spotify's own code-flow example (wire spec §2)."""
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("authorization-code", pkce="off").run_all()
    callback = lab("/run/callback")
    authorize = next(s for s in fake.app.seen if s["path"].startswith("/authorize"))
    assert authorize["path"].startswith(
        "/authorize?response_type=code&client_id=" + CLIENT_ID
        + "&redirect_uri=" + quote(callback, safe="")
        + "&scope=user-read-private+user-read-email+playlist-read-private&state=")
    assert "code_challenge" not in authorize["path"]
    token = next(s for s in fake.app.seen if s["path"] == "/api/token")
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token["method"] == "POST"
    assert token["headers"]["Authorization"] == f"Basic {basic}"
    assert token["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert token["body"] == urlencode({"grant_type": "authorization_code",
                                       "code": standin.CODE,
                                       "redirect_uri": callback})
    api = next(s for s in fake.app.seen if s["path"] == "/v1/me")
    assert api["headers"]["Authorization"] == f"Bearer {standin.ACCESS}"
    refresh = [s for s in fake.app.seen if "grant_type=refresh_token" in s["body"]][0]
    expected = f"grant_type=refresh_token&refresh_token={standin.REFRESH}"
    assert refresh["body"] == expected
    assert refresh["headers"]["Authorization"] == f"Basic {basic}"


def test_spotify_code_flow_sends_secret_and_pkce_by_default(lab, fake):
    """RFC 9700 §2.1.1: Basic secret plus S256 challenge and verifier."""
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("authorization-code").run_all()
    authorize = next(s for s in fake.app.seen if s["path"].startswith("/authorize"))
    query = dict(p.split("=", 1) for p in authorize["path"].split("?")[1].split("&"))
    assert query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
    token = next(s for s in fake.app.seen if s["path"] == "/api/token")
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token["headers"]["Authorization"] == f"Basic {basic}"
    fields = dict(p.split("=", 1) for p in token["body"].split("&"))
    assert set(fields) == {"grant_type", "code", "redirect_uri", "code_verifier"}
    from flowlab.core.http import s256  # the challenge is the verifier's hash
    assert s256(unquote(fields["code_verifier"])) == query["code_challenge"]
    callback = " ".join(runner.get(f"{runner.run_url}?step=3").text.split())
    assert "No <code>iss</code> came back" in callback
    assert "Spotify does not send one" in callback


def test_spotify_pkce_sends_verifier_and_no_secret(lab, fake):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID)
    runner.start("authorization-code-pkce").run_all()
    token = next(s for s in fake.app.seen if s["path"] == "/api/token")
    assert "Authorization" not in token["headers"]
    fields = dict(p.split("=", 1) for p in token["body"].split("&"))
    assert set(fields) == {"grant_type", "code", "redirect_uri", "client_id",
                           "code_verifier"}
    assert fields["client_id"] == CLIENT_ID
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", fields["code_verifier"])


def test_spotify_refuses_implicit_up_front_and_names_the_redirect_uri(lab):
    runner = FlowRunner(lab)
    page = runner.use_provider("Use Spotify", client_id=CLIENT_ID)
    assert lab("/run/callback") in _text(page.text)
    start = runner.get(lab("/run/implicit"))
    assert "removed the implicit grant on 2025-11-27" in _text(start.text)
    assert "Start the run" not in start.text


def test_real_provider_secrets_never_reach_the_disk(lab, tmp_path, caplog):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("authorization-code").run_all()
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    stored = b"".join(p.read_bytes() for p in Path(tmp_path).glob("runs.sqlite3*"))
    for secret in (SECRET, basic, standin.ACCESS, standin.REFRESH, standin.CODE):
        assert secret.encode() not in stored
        assert secret not in caplog.text
    assert "run-step-done" in runner.page.text  # the run itself still worked


def test_forget_drops_the_secret(lab):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    runner.start("client-credentials")
    runner.session.post(lab("/provider/forget"),
                        data={"csrf_token": _csrf(runner)})
    page = runner.get(lab("/provider"))
    assert "Now: Sandbox provider" in _text(page.text)


def _discover(runner, url: str, **fields):
    """Set up "any provider" from a discovery URL on the provider page."""
    return runner.use_provider("Use this provider", discovery_url=url,
                               **{"client_id": "x", **fields})


def _csrf(runner) -> str:
    page = runner.get(runner.server("/provider"))
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.mark.parametrize(("mode", "message"), [
    ("html", "could not be read as a token response"),
    ("slow", "did not answer within 1 seconds"),
    ("xss", "invalid_request: <script>alert(1)</script>"),
    ("list", "JSON, but not a token response's shape"),
    ("redirect", "does not follow redirects on the back channel"),
])
def test_provider_failures_are_clear_step_errors(lab, fake, mode, message):
    fake.app.mode = mode
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID, client_secret=SECRET)
    page = runner.start("client-credentials").next()
    assert message in _text(page.text)
    assert "<script>alert" not in page.text
    assert "run-step-failed" in page.text and "Traceback" not in page.text


def test_unreachable_provider(lab):
    runner = FlowRunner(lab)
    runner.use_provider("Use this provider", authorize_url="http://127.0.0.2:9/a",
                        token_url="http://127.0.0.2:9/token", client_id="x",
                        client_secret="y")
    page = runner.start("client-credentials").next()
    assert "could not be reached" in _text(page.text)


def test_discovery_with_the_wrong_issuer_is_refused(lab, fake):
    fake.app.mode = "bad-issuer"
    runner = FlowRunner(lab)
    page = _discover(runner, fake("/.well-known/oauth-authorization-server"))
    assert page.status_code == 400
    assert "RFC 8414 §3.3" in _text(page.text)
    assert f'value="{fake("/.well-known/oauth-authorization-server")}"' in page.text


def test_discovered_capabilities_decide_the_flows(lab, fake):
    runner = FlowRunner(lab)
    page = _discover(runner, fake("/.well-known/oauth-authorization-server"))
    text = _text(page.text)
    assert "client-credentials: not offered needs a client secret" in text
    assert "implicit: not offered the provider does not offer response_type=token" \
        in text


def register_lab_apps(lab, sandbox_url: str, database: str):
    """Register a web and a browser app on a standalone sandbox for the callback the lab
    at ``lab`` gives that issuer (one per provider, ``flowlab.core.runner.callbacks``;
    the demo apps know only ``/run/callback``). Returns (web, secret, public)."""
    callback = lab(for_issuer(sandbox_url + "/sandbox"))
    config = {"SECRET_KEY": "standalone-key"}
    with make_engine("sqlite:///" + database).connect() as conn:
        web, secret = create_client(conn, config, name="Lab web app",
                                    redirect_uris=[callback], confidential=True)
        public, _ = create_client(conn, config, name="Lab browser app",
                                  redirect_uris=[callback], confidential=False,
                                  implicit=True)
    return web, secret, public


def choose_standalone(runner, sandbox_url: str, database: str):
    """Point the runner at a standalone sandbox by its discovery URL, with the lab's
    apps registered there."""
    web, secret, public = register_lab_apps(runner.server, sandbox_url, database)
    return runner.use_provider(
        "Use this provider",
        discovery_url=sandbox_url + "/.well-known/oauth-authorization-server/sandbox",
        client_id=web.client_id, client_secret=secret,
        public_client_id=public.client_id, api_base=sandbox_url + "/sandbox",
        scope="user-read-private user-read-email")


@pytest.mark.parametrize("flow_id", ["authorization-code", "authorization-code-pkce",
                                     "client-credentials", "implicit"])
def test_standalone_sandbox_as_any_provider(live_server, sandbox_processes,
                                            sandbox_env, flow_id):
    (url,) = sandbox_processes(1)
    runner = FlowRunner(live_server)
    page = choose_standalone(runner, url, sandbox_env["FLOWLAB_SANDBOX_DATABASE"])
    assert f"Now: Provider at {url}/sandbox" in _text(page.text)
    runner.start(flow_id).run_all()
    assert "run-step-failed" not in runner.page.text
    assert "That is the whole flow" in runner.page.text
    # The same steps as against the mounted sandbox, expiry and revocation included.
    assert runner.page.text.count("run-step-done") == STEPS[flow_id]
    first = _text(runner.get(f"{runner.run_url}?step=1").text)
    assert url in first  # the run went to the other process, not the mounted sandbox


def test_wrong_client_secret_is_a_clear_step_error(live_server, sandbox_processes):
    (url,) = sandbox_processes(1)
    web, public = demo_apps({"SECRET_KEY": "standalone-key"})
    runner = FlowRunner(live_server)
    _discover(runner, url + "/.well-known/oauth-authorization-server/sandbox",
              client_id=web.client_id, client_secret="not-the-secret-at-all")
    page = runner.start("client-credentials").next()
    text = _text(page.text)
    assert "run-step-failed" in page.text
    assert "invalid_client" in text and "HTTP/1.1 400" in text


def test_a_presenter_can_set_the_provider_for_everyone(serve, fake):
    lab = serve(PROVIDER="spotify", CLIENT_ID=CLIENT_ID, CLIENT_SECRET=SECRET,
                SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url)
    runner = FlowRunner(lab)
    assert "Now: Spotify" in _text(runner.get(lab("/provider")).text)
    runner.start("client-credentials").next()
    token = next(s for s in fake.app.seen if s["path"] == "/api/token")
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token["headers"]["Authorization"] == f"Basic {basic}"
    assert SECRET not in runner.get(lab("/provider")).text


def test_other_machines_cannot_make_the_lab_fetch_urls(app):
    client = app.test_client()
    page = client.get("/provider", base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/provider", base_url="http://127.0.0.1", data={
        "csrf_token": token, "kind": "discovered", "client_id": "x",
        "discovery_url": "http://127.0.0.1:9/.well-known/oauth-authorization-server"},
        environ_base={"REMOTE_ADDR": "192.168.1.50"})
    assert answer.status_code == 400
    assert "only on the machine that runs it" in _text(answer.text)


@pytest.mark.parametrize("metadata", [
    {"authorization_endpoint": 123},
    {"grant_types_supported": "authorization_code client_credentials"},
    {"flowlab_demo_expire_endpoint": "http://10.0.0.5:8080/admin/delete"},
])
def test_odd_metadata_is_refused_or_ignored(metadata, app):
    base = {"issuer": "https://as.example", "token_endpoint": "https://as.example/t",
            "authorization_endpoint": "https://as.example/a"}
    with app.test_request_context():
        try:
            provider = discovery.from_metadata({**base, **metadata}, ("id", ""), "", "",
                                               hosts=lab_hosts())
        except providers.ProviderError:
            return
    assert provider.expire_url is None and not provider.grant_revocation


def test_discovery_does_not_follow_redirects(lab, fake):
    runner = FlowRunner(lab)
    page = _discover(runner, fake("/moved/.well-known/oauth-authorization-server"))
    assert page.status_code == 400
    assert "answered HTTP 302, a redirect, which discovery does not follow" \
        in _text(page.text)
    assert not any(s["path"].startswith("/.well-known") for s in fake.app.seen)


def test_exports_of_a_real_provider_run_label_its_own_steps(lab, fake):
    runner = FlowRunner(lab)
    runner.use_provider("Use Spotify", client_id=CLIENT_ID)
    runner.start("authorization-code-pkce").run_all()
    handout = runner.session.get(runner.run_url + "/export.md").text
    assert "Let the access token expire" not in handout  # Spotify has no such control
    assert "Refresh: no new refresh token comes back" in handout
    assert standin.ACCESS not in handout and standin.REFRESH not in handout
