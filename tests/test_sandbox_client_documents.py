"""OAuth Client ID Metadata Documents at the best-practice issuer, over HTTP
(draft-ietf-oauth-client-id-metadata-document; the MCP authorization spec's first
choice, 2025-11-25): a ``client_id`` that is a URL names the client's own JSON
document, which the sandbox fetches (loopback addresses only, for local requesters
only, under the outbound rules) and checks. The document is served from this test
on a loopback port; the client is plain ``requests``. The Spotify-like issuer knows
no such thing."""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
import requests

from tests.independent import ASSERTION_TYPE
from tests.independent import Key
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import FORM
from tests.sandbox_helpers import HIDDEN
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query


class Documents:
    """A client's web server on a loopback port: ``put`` a body at a path; every
    request it sees is kept in ``seen``."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[bytes, float]] = {}
        self.seen: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                owner.seen.append(self.path)
                body, trickle = owner.bodies.get(self.path, (b"", 0))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for start in range(0, len(body), 1 if trickle else len(body)):
                        self.wfile.write(body[start:start + 1] if trickle else body)
                        self.wfile.flush()
                        if trickle:
                            time.sleep(trickle)  # the slow client server, not the test
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, document: dict | bytes, path: str | None = None,
            trickle: float = 0) -> str:
        """Serve ``document`` at a fresh path; its URL. A dict's ``client_id``
        is set to that URL unless it has one."""
        path = path or f"/clients/{secrets.token_hex(6)}.json"
        url = self.origin + path
        if isinstance(document, dict):
            document = json.dumps({"client_id": url, **document}).encode()
        self.bodies[path] = (document, trickle)
        return url

    def requests_for(self, url: str) -> list[str]:
        return [path for path in self.seen if self.origin + path == url]


@pytest.fixture(scope="module")
def documents():
    served = Documents()
    yield served
    served.server.shutdown()
    served.server.server_close()


def public_document(**fields) -> dict:
    return {"client_name": "Agent Smith's MCP client", "redirect_uris": [CALLBACK],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], **fields}


class Issuer:
    """One browser and one client of the issuer at ``issuer`` (plain requests)."""

    def __init__(self, base: str, path: str) -> None:
        self.base, self.issuer = base, base + path
        self.browser = requests.Session()

    def authorize(self, client_id: str, redirect_uri: str = CALLBACK, **extra):
        """GET the authorization endpoint with a fresh S256 challenge; the
        response and the verifier."""
        verifier, challenge = pkce_pair()
        params = {"response_type": "code", "client_id": client_id,
                  "redirect_uri": redirect_uri, "state": "s1",
                  "scope": "user-read-email",
                  "code_challenge": challenge, "code_challenge_method": "S256",
                  **extra}
        response = self.browser.get(self.issuer + "/authorize", params=params,
                                    allow_redirects=False, timeout=30)
        return response, verifier

    def submit(self, page: requests.Response, button: str, **fields):
        """Post the page's first form as a press of the button labelled ``button``."""
        assert button in page.text, page.text
        form = FORM.search(page.text)
        hidden = {k: html.unescape(v) for k, v in HIDDEN.findall(form.group(2))}
        return self.browser.post(self.base + html.unescape(form.group(1)),
                                 data={**hidden, **fields}, allow_redirects=False,
                                 timeout=30)

    def token(self, data: dict) -> requests.Response:
        return requests.post(self.issuer + "/api/token", data=data, timeout=30)


@pytest.fixture
def best(live_server):
    return Issuer(live_server.url, "/sandbox/best-practice")


@pytest.fixture
def spotify(live_server):
    return Issuer(live_server.url, "/sandbox")


def sign_in(issuer: Issuer, client_id: str) -> tuple[requests.Response, str, str]:
    """Authorize, "Continue as Alice", then the consent page: it, and the verifier."""
    login, verifier = issuer.authorize(client_id)
    assert login.status_code == 200, login.text
    signed = issuer.submit(login, "Continue as", user="alice")
    assert signed.status_code == 303
    consent = issuer.browser.get(issuer.base + signed.headers["Location"],
                                 allow_redirects=False, timeout=30)
    return consent, verifier, client_id


def text_of(page: requests.Response) -> str:
    return " ".join(html.unescape(page.text).split())


def test_metadata_says_documents_are_supported_at_best_practice_only(best, spotify):
    """draft-ietf-oauth-client-id-metadata-document: the RFC 8414 field."""
    meta = requests.get(best.base + "/.well-known/oauth-authorization-server"
                        "/sandbox/best-practice", timeout=10).json()
    assert meta["client_id_metadata_document_supported"] is True
    plain = requests.get(spotify.base + "/.well-known/oauth-authorization-server"
                         "/sandbox", timeout=10).json()
    assert "client_id_metadata_document_supported" not in plain
    fapi = requests.get(spotify.base + "/.well-known/oauth-authorization-server"
                        "/sandbox/fapi2", timeout=10).json()
    assert "client_id_metadata_document_supported" not in fapi


def test_a_document_client_signs_in_with_pkce_and_calls_the_api(best, documents):
    """The client's URL is its client_id; its name on the consent page is marked as
    claimed by the document; the code flow with S256 gives tokens for that id."""
    url = documents.put(public_document())
    consent, verifier, _ = sign_in(best, url)
    shown = text_of(consent)
    assert "Agent Smith's MCP client" in shown
    assert "named by its own metadata document" in shown
    assert "not verified" in shown
    assert url in shown
    agreed = best.submit(consent, "Agree", decision="agree")
    assert agreed.status_code == 303
    answer = query(agreed.headers["Location"])
    assert agreed.headers["Location"].startswith(CALLBACK)
    tokens = best.token({"grant_type": "authorization_code", "code": answer["code"],
                         "redirect_uri": CALLBACK, "code_verifier": verifier,
                         "client_id": url})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    me = requests.get(best.issuer + "/v1/me", timeout=10, headers={
        "Authorization": "Bearer " + body["access_token"]})
    assert me.status_code == 200, me.text
    refreshed = best.token({"grant_type": "refresh_token", "client_id": url,
                            "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    # Fetched once, then kept a while: the token requests used the cached copy.
    assert documents.requests_for(url) == [url.removeprefix(documents.origin)]


def test_a_document_client_may_authenticate_with_private_key_jwt(best, documents):
    """A document with its public keys (RFC 7591 §2 ``jwks``): the token request
    is authenticated by an assertion signed with the matching private key."""
    key = Key()
    jwk = {**key.jwk, "kid": key.kid, "alg": "ES256", "use": "sig"}
    url = documents.put(public_document(token_endpoint_auth_method="private_key_jwt",
                                        jwks={"keys": [jwk]}))
    consent, verifier, _ = sign_in(best, url)
    agreed = best.submit(consent, "Agree", decision="agree")
    code = query(agreed.headers["Location"])["code"]
    now = int(time.time())
    assertion = key.sign({"kid": key.kid, "typ": "JWT"}, {
        "iss": url, "sub": url, "aud": best.issuer, "iat": now, "exp": now + 60,
        "jti": secrets.token_urlsafe(16)})
    form = {"grant_type": "authorization_code", "code": code, "client_id": url,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    unsigned = best.token(form)
    assert unsigned.status_code == 401, unsigned.text
    tokens = best.token({**form, "client_assertion_type": ASSERTION_TYPE,
                         "client_assertion": assertion})
    assert tokens.status_code == 200, tokens.text


def test_a_code_without_its_verifier_is_refused_for_a_document_client(best, documents):
    """PKCE as for any public client (RFC 7636 §4.6, OAuth 2.1 §4.1.3)."""
    url = documents.put(public_document())
    consent, _, _ = sign_in(best, url)
    code = query(best.submit(consent, "Agree", decision="agree")
                 .headers["Location"])["code"]
    refused = best.token({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": CALLBACK, "client_id": url})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


BAD_DOCUMENTS = {
    "client_id mismatch": (
        public_document(client_id="http://127.0.0.1:9/someone-else.json"),
        "does not name this URL as its client_id"),
    "client_secret_basic": (
        public_document(token_endpoint_auth_method="client_secret_basic"),
        "no shared secret"),
    "a client_secret": (public_document(client_secret="hunter2"), "no shared secret"),
    "private_key_jwt without keys": (
        public_document(token_endpoint_auth_method="private_key_jwt"),
        "needs its public keys"),
    "no redirect_uris": ({"client_name": "x", "token_endpoint_auth_method": "none"},
                         "redirect_uris"),
    "a javascript: redirect URI": (
        public_document(redirect_uris=["javascript:alert(1)"]), "redirect_uris"),
    "not JSON": (b"<html>hello</html>", "not a JSON object"),
    "a JSON array": (b"[1, 2]", "not a JSON object"),
    "oversize": (public_document(padding="x" * 10_000), "larger than"),
}


@pytest.mark.parametrize("case", list(BAD_DOCUMENTS))
def test_a_bad_document_is_an_error_page_and_invalid_client(best, documents, case):
    """A document that fails a check of the draft's "Client Metadata" is no
    client. At authorize an error page, never a redirect to its untrusted URI
    (RFC 6749 §4.1.2.1); at the token endpoint ``invalid_client`` (§5.2)."""
    document, reason = BAD_DOCUMENTS[case]
    url = documents.put(document)
    page, _ = best.authorize(url)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert reason in text_of(page)
    refused = best.token({"grant_type": "authorization_code", "code": "bp.nothing",
                          "redirect_uri": CALLBACK, "code_verifier": "v" * 43,
                          "client_id": url})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_a_redirect_uri_not_in_the_document_is_refused(best, documents):
    """Exact matching against the document's ``redirect_uris`` (the draft, RFC
    9700 §4.1.3): an error page, no redirect."""
    url = documents.put(public_document())
    page, _ = best.authorize(url, redirect_uri="http://127.0.0.1:8765/elsewhere")
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "Invalid redirect URI" in text_of(page)


def test_a_slow_document_is_given_up_at_the_deadline(best, documents):
    """The outbound rules' overall deadline holds for a server that trickles."""
    url = documents.put(public_document(), trickle=0.3)
    started = time.monotonic()
    page, _ = best.authorize(url)
    assert page.status_code == 400
    assert "did not come in time" in text_of(page)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("template", [
    "http://localhost:{port}/clients/named.json",  # a name, not a loopback literal
    "https://client.example/clients/agent.json",  # not loopback at all
    "http://127.0.0.1:{port}/clients/../agent.json",  # dot segments
    "http://127.0.0.1:{port}/clients/agent.json#frag",  # a fragment
])
def test_a_url_off_loopback_is_never_fetched(best, documents, template):
    """The sandbox fetches a client's document only on a loopback IP literal."""
    port = documents.origin.rsplit(":", 1)[1]
    url = template.format(port=port)
    before = len(documents.seen)
    page, _ = best.authorize(url)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert len(documents.seen) == before


def test_a_remote_requester_never_makes_the_sandbox_fetch(live_server, documents):
    """For a browser or client on another machine, nothing is fetched, even on
    loopback: the document must come from the lab's own machine (issue 21)."""
    url = documents.put(public_document())
    client = live_server.app.test_client()
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    page = client.get("/sandbox/best-practice/authorize", environ_base=remote,
                      query_string={"response_type": "code", "client_id": url,
                                    "redirect_uri": CALLBACK, "scope": "",
                                    "code_challenge": "c" * 43,
                                    "code_challenge_method": "S256"})
    assert page.status_code == 400
    assert "only for requests from this machine" in " ".join(
        html.unescape(page.get_data(as_text=True)).split())
    token = client.post("/sandbox/best-practice/api/token", environ_base=remote,
                        data={"grant_type": "authorization_code", "code": "bp.x",
                              "redirect_uri": CALLBACK, "client_id": url})
    assert token.status_code == 401
    assert token.get_json()["error"] == "invalid_client"
    assert documents.requests_for(url) == []


def test_the_spotify_like_issuer_treats_a_url_client_id_as_unknown(
        best, spotify, documents):
    """No documents at Spotify: a URL is an unknown client id, even one the
    best-practice issuer knows, and nothing is fetched."""
    url = documents.put(public_document())
    consent, _, _ = sign_in(best, url)  # now known at best practice
    fetched = len(documents.seen)
    unknown, _ = spotify.authorize("no-such-client-" + secrets.token_hex(4))
    page, _ = spotify.authorize(url)
    assert page.status_code == unknown.status_code == 400
    assert text_of(page) == text_of(unknown)
    token = spotify.token({"grant_type": "authorization_code", "code": "x",
                           "redirect_uri": CALLBACK, "code_verifier": "v" * 43,
                           "client_id": url})
    assert token.status_code == 400
    assert token.json() == {"error": "invalid_client",
                            "error_description": "Invalid client"}
    assert len(documents.seen) == fetched


def _age_cached_copy(app, client_id: str, seconds: float) -> None:
    """Make the kept copy of a document ``seconds`` older (instead of waiting)."""
    from sqlalchemy import update

    from flowlab.core.storage.sandbox_tables import clients
    from flowlab.sandbox import store

    with app.app_context(), store.DB.connection(app) as conn:
        conn.execute(update(clients).where(clients.c.client_id == client_id)
                     .values(created_at=clients.c.created_at - seconds))


def test_a_changed_document_is_fetched_again_after_a_minute(
        live_server, best, documents):
    """The kept copy serves for a minute; after that the document is fetched
    again, and what it says now counts (the draft leaves caching to the server)."""
    url = documents.put(public_document())
    path = url.removeprefix(documents.origin)
    sign_in(best, url)
    documents.put(public_document(client_name="Renamed agent"), path=path)
    page, _ = best.authorize(url, show_dialog="true")  # the kept copy
    assert "Agent Smith's MCP client" in text_of(page)
    assert documents.requests_for(url) == [path]
    _age_cached_copy(live_server.app, url, 61)
    page, _ = best.authorize(url, show_dialog="true")
    assert "Renamed agent" in text_of(page)
    assert documents.requests_for(url) == [path, path]
    documents.put(public_document(redirect_uris=["http://127.0.0.1:8765/other"]),
                  path=path)
    _age_cached_copy(live_server.app, url, 61)
    moved, _ = best.authorize(url)  # the old redirect URI is gone now
    assert moved.status_code == 400
    assert "Invalid redirect URI" in text_of(moved)
