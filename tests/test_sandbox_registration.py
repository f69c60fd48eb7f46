"""Dynamic registration (RFC 7591, RFC 7592) and private_key_jwt (RFC 7523 §2.2,
§3; OIDC Core §9) at the best-practice and FAPI 2.0 issuers, by an independent
client: plain requests, keys and signatures made with cryptography by hand (the
JWS compact serialization, RFC 7515 §7.1), nothing imported from flowlab (the
suite's browser helper only plays the user at /authorize). It reads
the metadata, registers, authenticates with a signed assertion at the token,
introspection and revocation endpoints, and sees each misuse refused."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.independent import Client
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import pkce_pair

ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PATHS = {"spotify-like": "/sandbox", "best-practice": "/sandbox/best-practice",
         "fapi2": "/sandbox/fapi2"}
REDIRECT = "https://app.example/callback"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Key:
    """A client's key pair and its public JWK (RFC 7517, RFC 7518 §6)."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg, self.kid = alg, uuid.uuid4().hex
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            numbers = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": b64u(numbers.x.to_bytes(
                32, "big")), "y": b64u(numbers.y.to_bytes(32, "big"))}
        else:
            self.private = rsa.generate_private_key(public_exponent=65537,
                                                    key_size=2048)
            numbers = self.private.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": _int(numbers.n), "e": _int(numbers.e)}
        self.jwk = {**self.jwk, "kid": self.kid, "alg": alg, "use": "sig"}

    def sign(self, header: dict, claims: dict) -> str:
        """A compact JWS (RFC 7515 §7.1): ES256 as r || s (RFC 7518 §3.4)."""
        signing_input = (b64u(json.dumps(header).encode()) + "."
                         + b64u(json.dumps(claims).encode())).encode()
        if header.get("alg") == "none":
            return signing_input.decode() + "."
        if self.alg == "ES256":
            r, s = decode_dss_signature(
                self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = self.private.sign(signing_input, padding.PKCS1v15(),
                                          hashes.SHA256())
        return signing_input.decode() + "." + b64u(signature)


class Issuer:
    """One issuer, known from its RFC 8414 metadata alone."""

    def __init__(self, base: str, profile: str) -> None:
        where = base + "/.well-known/oauth-authorization-server" + PATHS[profile]
        self.meta = requests.get(where, timeout=10).json()
        self.id = self.meta["issuer"]

    def register(self, **body) -> requests.Response:
        return requests.post(self.meta["registration_endpoint"], json=body,
                             timeout=10)

    def assertion(self, client_id: str, key: Key, header: dict | None = None,
                  **claims) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": self.id,
                  "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, **claims}
        claims = {name: value for name, value in claims.items() if value is not None}
        header = {"alg": key.alg, "kid": key.kid, "typ": "JWT", **(header or {})}
        return key.sign({k: v for k, v in header.items() if v is not None}, claims)

    def post(self, endpoint: str, assertion: str, **form) -> requests.Response:
        form = {"client_assertion_type": ASSERTION, "client_assertion": assertion,
                **form}
        return requests.post(self.meta[endpoint], data=form, timeout=10)


def issuer(live_server, profile: str) -> Issuer:
    return Issuer(live_server.url, profile)


def jwt_client(iss: Issuer, key: Key, **extra) -> dict:
    """A private_key_jwt client for client credentials, registered by its jwks."""
    answer = iss.register(token_endpoint_auth_method="private_key_jwt",
                          grant_types=["client_credentials"],
                          jwks={"keys": [key.jwk]}, client_name="Signed", **extra)
    assert answer.status_code == 201, answer.text
    return answer.json()


def refused_client(answer: requests.Response) -> None:
    """401 ``invalid_client`` (RFC 6749 §5.2); the token endpoint names a scheme."""
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client"
    if answer.url.endswith("/api/token"):
        assert answer.headers["WWW-Authenticate"]


# -- Metadata -----------------------------------------------------------------------


def test_metadata_offers_registration_and_private_key_jwt(live_server):
    best, fapi = issuer(live_server, "best-practice"), issuer(live_server, "fapi2")
    for iss in (best, fapi):
        assert iss.meta["registration_endpoint"] == iss.id + "/api/register"
        assert {"RS256", "ES256"} <= set(
            iss.meta["token_endpoint_auth_signing_alg_values_supported"])
        assert not {"none", "HS256"} & set(
            iss.meta["token_endpoint_auth_signing_alg_values_supported"])
    assert "private_key_jwt" in best.meta["token_endpoint_auth_methods_supported"]
    assert fapi.meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    for name in ("introspection", "revocation"):
        assert fapi.meta[f"{name}_endpoint_auth_methods_supported"] == [
            "private_key_jwt"]
    spotify = issuer(live_server, "spotify-like")
    assert "registration_endpoint" not in spotify.meta
    assert spotify.meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post", "none"]
    gone = requests.post(live_server.url + "/sandbox/api/register", json={
        "redirect_uris": [REDIRECT]}, timeout=10)
    assert gone.status_code == 404


# -- Registration (RFC 7591) --------------------------------------------------------


@pytest.mark.parametrize("profile", ["best-practice", "fapi2"])
def test_a_private_key_jwt_registration_answers_201_without_a_secret(
        live_server, profile):
    iss, key = issuer(live_server, profile), Key()
    answer = iss.register(redirect_uris=[REDIRECT], client_name="Signed app",
                          token_endpoint_auth_method="private_key_jwt",
                          jwks={"keys": [key.jwk]},
                          id_token_signed_response_alg="ES256")
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert "client_secret" not in body
    assert body["client_id_issued_at"] <= time.time() + 1
    assert body["registration_access_token"]
    assert body["registration_client_uri"] == (
        iss.meta["registration_endpoint"] + "/" + body["client_id"])
    assert body["redirect_uris"] == [REDIRECT]
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["jwks"] == {"keys": [key.jwk]}
    assert body["id_token_signed_response_alg"] == "ES256"


def test_a_secret_registration_gets_a_secret_that_works(live_server):
    iss = issuer(live_server, "best-practice")
    answer = iss.register(grant_types=["client_credentials"],
                          token_endpoint_auth_method="client_secret_basic")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["client_secret"] and body["client_secret_expires_at"] == 0
    token = requests.post(iss.meta["token_endpoint"], timeout=10,
                          data={"grant_type": "client_credentials"},
                          auth=(body["client_id"], body["client_secret"]))
    assert token.status_code == 200, token.text


def test_a_client_registered_without_scope_may_ask_for_any_sandbox_scope(
        live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    client = jwt_client(iss, key)
    assert "scope" not in client
    scope = " ".join(iss.meta["scopes_supported"])
    token = iss.post("token_endpoint", iss.assertion(client["client_id"], key),
                     grant_type="client_credentials", scope=scope)
    assert token.status_code == 200, token.text


def test_a_client_registered_with_a_scope_may_ask_for_that_scope_only(
        live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    first, second = [scope for scope in iss.meta["scopes_supported"]
                     if scope not in ("openid", "profile")][:2]
    client = jwt_client(iss, key, scope=first)
    assert client["scope"] == first
    for scope, status in ((first, 200), (f"{first} {second}", 400)):
        token = iss.post("token_endpoint", iss.assertion(client["client_id"], key),
                         grant_type="client_credentials", scope=scope)
        assert token.status_code == status, token.text
    assert token.json()["error"] == "invalid_scope"


def test_openid_profile_stays_valid_for_a_client_registered_with_a_scope(
        live_server):
    """Issue 21: at best practice ``openid profile`` is valid for any client."""
    iss, key = issuer(live_server, "best-practice"), Key()
    client = jwt_client(iss, key, scope="user-read-email")
    token = iss.post("token_endpoint", iss.assertion(client["client_id"], key),
                     grant_type="client_credentials",
                     scope="user-read-email openid profile")
    assert token.status_code == 200, token.text


BAD_METADATA = [
    ({"redirect_uris": ["javascript:alert(1)//"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["data:text/html,hi"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://app.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": "https://app.example/cb"}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": [REDIRECT], "response_types": ["token"]},
     "invalid_client_metadata"),
    ({"grant_types": ["password"]}, "invalid_client_metadata"),
    ({"grant_types": ["client_credentials"],
      "token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "tls_client_auth"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),  # no key
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
      "jwks_uri": "https://keys.example/jwks.json"}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "none"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "scope": "openid not-a-scope"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "dpop_bound_access_tokens": "yes"},
     "invalid_client_metadata"),
]


@pytest.mark.parametrize(("body", "error"), BAD_METADATA)
def test_bad_metadata_is_refused_with_its_rfc_7591_error(live_server, body, error):
    answer = issuer(live_server, "best-practice").register(**body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_a_jwks_with_a_private_or_weak_key_or_beside_a_jwks_uri_is_refused(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    private = {**key.jwk, "d": b64u(key.private.private_numbers()
                                    .private_value.to_bytes(32, "big"))}
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small = {"kty": "RSA", "n": _int(weak.public_key().public_numbers().n),
             "e": "AQAB"}
    for extra in ({"jwks": {"keys": [private]}}, {"jwks": {"keys": [small]}},
                  {"jwks": {"keys": [key.jwk]},
                   "jwks_uri": "http://127.0.0.1:9/jwks.json"},
                  {"jwks": [key.jwk]}):
        answer = iss.register(grant_types=["client_credentials"],
                              token_endpoint_auth_method="private_key_jwt", **extra)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_client_metadata"
    not_json = requests.post(iss.meta["registration_endpoint"], data="x=1",
                             timeout=10)
    assert not_json.status_code == 400
    assert not_json.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("method", ["none", "client_secret_basic",
                                    "client_secret_post"])
def test_fapi2_refuses_public_and_secret_registrations(live_server, method):
    answer = issuer(live_server, "fapi2").register(
        redirect_uris=[REDIRECT], token_endpoint_auth_method=method)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client_metadata"


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    document = b""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args):
        pass


@pytest.fixture
def jwks_host():
    """A loopback server of one JWK Set, counting its fetches."""
    handler = type("Handler", (_JwksHandler,), {"hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_a_loopback_jwks_uri_is_fetched_and_its_key_authenticates(
        live_server, jwks_host):
    server, handler = jwks_host
    iss, key = issuer(live_server, "best-practice"), Key("RS256")
    handler.document = json.dumps({"keys": [key.jwk]}).encode()
    uri = f"http://127.0.0.1:{server.server_port}/jwks.json"
    answer = iss.register(grant_types=["client_credentials"], jwks_uri=uri,
                          token_endpoint_auth_method="private_key_jwt")
    assert answer.status_code == 201, answer.text
    assert answer.json()["jwks_uri"] == uri and handler.hits == ["/jwks.json"]
    token = iss.post("token_endpoint", iss.assertion(answer.json()["client_id"], key),
                     grant_type="client_credentials")
    assert token.status_code == 200, token.text


def test_a_key_rotated_at_the_jwks_uri_is_fetched_again(live_server, jwks_host):
    server, handler = jwks_host
    iss, old, new = issuer(live_server, "best-practice"), Key(), Key("RS256")
    handler.document = json.dumps({"keys": [old.jwk]}).encode()
    answer = iss.register(grant_types=["client_credentials"],
                          token_endpoint_auth_method="private_key_jwt",
                          jwks_uri=f"http://127.0.0.1:{server.server_port}/k")
    cid = answer.json()["client_id"]
    handler.document = json.dumps({"keys": [new.jwk]}).encode()
    token = iss.post("token_endpoint", iss.assertion(cid, new),
                     grant_type="client_credentials")
    assert token.status_code == 200, token.text
    assert handler.hits == ["/k", "/k"]
    refused_client(iss.post("token_endpoint", iss.assertion(cid, Key()),
                            grant_type="client_credentials"))
    assert len(handler.hits) == 3  # looked again, and found no such key


def test_a_remote_requester_s_jwks_uri_is_never_fetched(app, jwks_host):
    server, handler = jwks_host
    key = Key()
    handler.document = json.dumps({"keys": [key.jwk]}).encode()
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    answer = remote.post("/sandbox/best-practice/api/register", json={
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": f"http://127.0.0.1:{server.server_port}/jwks.json"})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_client_metadata"
    assert handler.hits == []


def test_open_registration_is_rate_limited_per_address_across_servers(serve):
    # Ten a minute at least (the app's default is 30; the suite lifts it).
    limit = {"SANDBOX_REGISTRATIONS_PER_MINUTE": 10}
    first, second = serve(**limit), serve(**limit)  # one database, two servers
    made = 0
    for server in (first, second):
        iss = Issuer(server.url, "best-practice")
        for _ in range(200):
            answer = iss.register(redirect_uris=[REDIRECT])
            if answer.status_code == 429:
                break
            assert answer.status_code == 201, answer.text
            made += 1
            if server is first and made == 5:
                break
        else:
            pytest.fail("no 429")
    assert made >= 10
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"]


def test_a_registration_and_its_jti_hold_across_servers_sharing_the_store(serve):
    one, two = serve(), serve()  # one database, two servers
    at_one, at_two = Issuer(one.url, "best-practice"), Issuer(two.url, "fapi2")
    key = Key()
    client = jwt_client(at_one, key)
    cid, token = client["client_id"], client["registration_access_token"]
    read = requests.get(f"{at_two.meta['registration_endpoint']}/{cid}", timeout=10,
                        headers={"Authorization": "Bearer " + token})
    assert read.status_code == 200 and read.json()["client_id"] == cid
    jti = uuid.uuid4().hex
    assert at_two.post("introspection_endpoint", at_two.assertion(cid, key, jti=jti),
                       token="x").status_code == 200
    # The same jti for the other server's origin (its own issuer identifier).
    other = Issuer(one.url, "fapi2")
    answer = other.post("introspection_endpoint", other.assertion(cid, key, jti=jti),
                        token="x")
    refused_client(answer)
    assert "jti" in answer.json()["error_description"]


# -- Management (RFC 7592) ----------------------------------------------------------


def test_read_and_delete_need_the_registration_access_token(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    client = jwt_client(iss, key)
    uri, token = client["registration_client_uri"], client["registration_access_token"]
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    {"Authorization": "Basic " + token}):
        for method in ("GET", "DELETE"):
            answer = requests.request(method, uri, headers=headers, timeout=10)
            assert answer.status_code == 401, (method, headers)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    other = jwt_client(iss, Key())
    stolen = requests.get(uri, timeout=10, headers={
        "Authorization": "Bearer " + other["registration_access_token"]})
    assert stolen.status_code == 401
    bearer = {"Authorization": "Bearer " + token}
    read = requests.get(uri, headers=bearer, timeout=10)
    assert read.status_code == 200
    assert read.json()["client_id"] == client["client_id"]
    assert read.json()["jwks"] == {"keys": [key.jwk]}
    assert read.json()["registration_access_token"] == token
    assert read.json()["registration_client_uri"] == uri
    # An update (RFC 7592 §2.2) must name the client: an empty one changes nothing.
    empty = requests.put(uri, headers=bearer, json={}, timeout=10)
    assert empty.status_code == 400
    assert empty.json()["error"] == "invalid_client_metadata"
    assert read.headers["Cache-Control"] == "no-store"
    assert requests.delete(uri, headers=bearer, timeout=10).status_code == 204
    assert requests.get(uri, headers=bearer, timeout=10).status_code == 401
    refused_client(iss.post("token_endpoint", iss.assertion(client["client_id"], key),
                            grant_type="client_credentials"))


# -- private_key_jwt (RFC 7523) -----------------------------------------------------


def test_private_key_jwt_at_token_introspection_and_revocation(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    client = jwt_client(iss, key)
    cid = client["client_id"]
    token = iss.post("token_endpoint", iss.assertion(cid, key),
                     grant_type="client_credentials")
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    seen = iss.post("introspection_endpoint", iss.assertion(cid, key), token=access)
    assert seen.status_code == 200 and seen.json()["active"] is True
    assert seen.json()["client_id"] == cid
    gone = iss.post("revocation_endpoint", iss.assertion(cid, key), token=access)
    assert gone.status_code == 200, gone.text
    seen = iss.post("introspection_endpoint", iss.assertion(cid, key), token=access)
    assert seen.json() == {"active": False}


def test_the_code_grant_and_refresh_with_private_key_jwt(live_server):
    """The front channel as a browser (the suite's helper); every back-channel
    request authenticated by a fresh assertion (RFC 7523 §2.2)."""
    iss, key = issuer(live_server, "best-practice"), Key()
    answer = iss.register(redirect_uris=[CALLBACK], jwks={"keys": [key.jwk]},
                          grant_types=["authorization_code", "refresh_token"],
                          token_endpoint_auth_method="private_key_jwt")
    assert answer.status_code == 201, answer.text
    cid = answer.json()["client_id"]
    browser = Sandbox(live_server.url, live_server.app.config)
    browser.issuer = iss.id
    verifier, challenge = pkce_pair()
    code = browser.code(SimpleNamespace(client_id=cid), scope="user-read-email",
                        code_challenge=challenge, code_challenge_method="S256")
    redeem = {"grant_type": "authorization_code", "code": code,
              "redirect_uri": CALLBACK, "code_verifier": verifier}
    refused_client(iss.post("token_endpoint", iss.assertion(cid, Key()), **redeem))
    tokens = iss.post("token_endpoint", iss.assertion(cid, key), **redeem)
    assert tokens.status_code == 200, tokens.text
    refresh = iss.post("token_endpoint", iss.assertion(cid, key),
                       grant_type="refresh_token",
                       refresh_token=tokens.json()["refresh_token"])
    assert refresh.status_code == 200, refresh.text
    assert refresh.json()["access_token"] != tokens.json()["access_token"]


@pytest.mark.parametrize("typ", ["JWT", "client-authentication+jwt", None])
def test_fapi2_accepts_each_assertion_typ_at_introspection(live_server, typ):
    iss, key = issuer(live_server, "fapi2"), Key()
    client = jwt_client(iss, key)
    seen = iss.post("introspection_endpoint",
                    iss.assertion(client["client_id"], key, {"typ": typ}),
                    token="fapi.unknown")
    assert seen.status_code == 200, seen.text
    assert seen.json() == {"active": False}


def test_fapi2_refuses_a_secret_at_its_endpoints(live_server):
    best = issuer(live_server, "best-practice")
    body = best.register(grant_types=["client_credentials"],
                         token_endpoint_auth_method="client_secret_basic").json()
    fapi = issuer(live_server, "fapi2")
    pair = (body["client_id"], body["client_secret"])
    prover = Client(fapi.meta)  # FAPI 2.0 wants a DPoP proof before all else
    prover.learn_nonce()
    for endpoint in ("token_endpoint", "introspection_endpoint"):
        url = fapi.meta[endpoint]
        answer = requests.post(url, auth=pair, timeout=10,
                               headers={"DPoP": prover.proof("POST", url)},
                               data={"grant_type": "client_credentials", "token": "x"})
        refused_client(answer)


def test_a_replayed_assertion_is_refused(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    cid = jwt_client(iss, key)["client_id"]
    assertion = iss.assertion(cid, key)
    first = iss.post("token_endpoint", assertion, grant_type="client_credentials")
    assert first.status_code == 200, first.text
    refused_client(iss.post("token_endpoint", assertion,
                            grant_type="client_credentials"))
    refused_client(iss.post("introspection_endpoint", assertion, token="x"))


def _misuses(iss: Issuer, cid: str, key: Key) -> dict[str, str]:
    now, stranger = int(time.time()), Key()
    return {
        "aud is the token endpoint": iss.assertion(cid, key,
                                                   aud=iss.meta["token_endpoint"]),
        "aud is an array with the token endpoint": iss.assertion(
            cid, key, aud=[iss.id, iss.meta["token_endpoint"]]),
        "aud is another issuer": iss.assertion(cid, key, aud=iss.id + "x"),
        "iss is not sub": iss.assertion(cid, key, sub="someone-else"),
        "iss is another client": iss.assertion(cid, key, iss="someone-else"),
        "expired": iss.assertion(cid, key, iat=now - 600, exp=now - 300),
        "no exp": iss.assertion(cid, key, exp=None),
        "exp far ahead": iss.assertion(cid, key, exp=now + 86400),
        "iat in the future": iss.assertion(cid, key, iat=now + 600,
                                           exp=now + 660),
        "not yet valid": iss.assertion(cid, key, nbf=now + 600),
        "no jti": iss.assertion(cid, key, jti=None),
        "alg none": iss.assertion(cid, key, {"alg": "none"}),
        "alg HS256": iss.assertion(cid, key, {"alg": "HS256"}),
        "unknown kid": iss.assertion(cid, key, {"kid": "nobody"}),
        "another key under its kid": stranger.sign(
            {"alg": "ES256", "kid": key.kid},
            json.loads(base64.urlsafe_b64decode(
                iss.assertion(cid, key).split(".")[1] + "=="))),
        "another typ": iss.assertion(cid, key, {"typ": "dpop+jwt"}),
        "not a JWT": "not.a.jwt",
    }


@pytest.mark.parametrize("profile", ["best-practice", "fapi2"])
def test_each_misused_assertion_is_refused_with_invalid_client(live_server,
                                                               profile):
    iss, key = issuer(live_server, profile), Key()
    cid = jwt_client(iss, key)["client_id"]
    for name, assertion in _misuses(iss, cid, key).items():
        answer = iss.post("introspection_endpoint", assertion, token="x")
        assert answer.status_code == 401, name
        assert answer.json()["error"] == "invalid_client", name
        if profile == "best-practice":
            refused_client(iss.post("token_endpoint", assertion,
                                    grant_type="client_credentials"))


def test_a_one_element_aud_array_passes_at_best_practice_not_at_fapi2(live_server):
    for profile, status in (("best-practice", 200), ("fapi2", 401)):
        iss, key = issuer(live_server, profile), Key()
        cid = jwt_client(iss, key)["client_id"]
        answer = iss.post("introspection_endpoint",
                          iss.assertion(cid, key, aud=[iss.id]), token="x")
        assert answer.status_code == status, (profile, answer.text)


def test_the_runner_s_back_channel_takes_the_public_issuer_as_aud(live_server):
    """The runner signs for the issuer the browser saw and posts to the private
    listener (another origin): the issuer's path is what must match there."""
    iss, key = issuer(live_server, "best-practice"), Key()
    cid = jwt_client(iss, key)["client_id"]
    inside = (live_server.app.config["SANDBOX_BACKCHANNEL_URL"]
              + PATHS["best-practice"] + "/api/introspect")
    for aud, status in ((iss.id, 200), (iss.meta["token_endpoint"], 401),
                        ([iss.id, "https://other.example"], 401)):
        answer = requests.post(inside, timeout=10, data={
            "client_assertion_type": ASSERTION, "token": "x",
            "client_assertion": iss.assertion(cid, key, aud=aud)})
        assert answer.status_code == status, (aud, answer.text)
    elsewhere = "http://192.0.2.1:8080" + PATHS["best-practice"]
    refused_client(iss.post("introspection_endpoint",
                            iss.assertion(cid, key, aud=elsewhere), token="x"))


def test_an_assertion_with_a_secret_or_another_client_id_is_refused(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    cid = jwt_client(iss, key)["client_id"]
    both = iss.post("token_endpoint", iss.assertion(cid, key),
                    grant_type="client_credentials", client_secret="x")
    assert both.status_code in (400, 401) and both.json()["error"] in (
        "invalid_request", "invalid_client")
    refused_client(iss.post("token_endpoint", iss.assertion(cid, key),
                            grant_type="client_credentials", client_id="other"))
    refused_client(iss.post("token_endpoint", iss.assertion(cid, key),
                            grant_type="client_credentials",
                            client_assertion_type="urn:other"))
    alone = requests.post(iss.meta["token_endpoint"], timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION})
    refused_client(alone)


# -- Update (RFC 7592 §2.2) ---------------------------------------------------------


def _put(client: dict, token: str | None = None, **body) -> requests.Response:
    headers = {"Authorization": "Bearer " + (
        client["registration_access_token"] if token is None else token)}
    return requests.put(client["registration_client_uri"], json=body,
                        headers=headers, timeout=10)


def _read(client: dict) -> dict:
    answer = requests.get(client["registration_client_uri"], timeout=10, headers={
        "Authorization": "Bearer " + client["registration_access_token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("profile", ["best-practice", "fapi2"])
def test_an_update_replaces_the_metadata_and_the_keys(live_server, profile):
    """RFC 7592 §2.2: the body replaces every field; what is left out is gone
    (the scope here); the new keys authenticate, the old ones no longer."""
    iss, old, new = issuer(live_server, profile), Key(), Key("RS256")
    first, second = [scope for scope in iss.meta["scopes_supported"]
                     if scope not in ("openid", "profile")][:2]
    client = jwt_client(iss, old, scope=first)
    cid = client["client_id"]
    answer = _put(client, client_id=cid, client_name="Renamed",
                  token_endpoint_auth_method="private_key_jwt",
                  grant_types=["client_credentials"], jwks={"keys": [new.jwk]},
                  dpop_bound_access_tokens=True)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["client_id"] == cid and body["client_name"] == "Renamed"
    assert body["jwks"] == {"keys": [new.jwk]} and "scope" not in body
    assert body["dpop_bound_access_tokens"] is True
    assert body["client_id_issued_at"] == client["client_id_issued_at"]
    assert body["registration_client_uri"] == client["registration_client_uri"]
    assert body["registration_access_token"] == client["registration_access_token"]
    assert _read(client) == body
    refused_client(iss.post("introspection_endpoint", iss.assertion(cid, old),
                            token="x"))
    assert iss.post("introspection_endpoint", iss.assertion(cid, new),
                    token="x").status_code == 200
    if profile == "best-practice":  # no scope registered now: any sandbox scope
        prover = Client(iss.meta)
        prover.learn_nonce()
        url = iss.meta["token_endpoint"]
        token = requests.post(url, timeout=10, headers={
            "DPoP": prover.proof("POST", url)}, data={
            "grant_type": "client_credentials", "scope": f"{first} {second}",
            "client_assertion_type": ASSERTION,
            "client_assertion": iss.assertion(cid, new)})
        assert token.status_code == 200, token.text


def test_an_update_is_checked_as_a_registration_is(live_server):
    """RFC 7592 §2.2, §2.3: the same checks and errors as RFC 7591 §3.2.2; the
    body names the client; a refused update leaves the registration as it was."""
    iss, key = issuer(live_server, "best-practice"), Key()
    client = jwt_client(iss, key)
    before = _read(client)
    cid = client["client_id"]
    base = {"token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["client_credentials"], "jwks": {"keys": [key.jwk]}}
    for change, error in (
            ({"client_id": cid, "redirect_uris": ["javascript:alert(1)//"],
              "grant_types": ["authorization_code"]}, "invalid_redirect_uri"),
            ({"client_id": cid, "grant_types": ["password"]},
             "invalid_client_metadata"),
            ({"client_id": cid, "jwks": None}, "invalid_client_metadata"),
            ({"client_id": cid, "dpop_bound_access_tokens": 1},
             "invalid_client_metadata"),
            ({"client_id": None}, "invalid_client_metadata"),
            ({"client_id": "someone-else"}, "invalid_client_metadata"),
            ({"client_id": cid, "client_secret": "guess"},
             "invalid_client_metadata"),
            ({"client_id": cid, "token_endpoint_auth_method": "none"},
             "invalid_client_metadata")):
        body = {k: v for k, v in {**base, **change}.items() if v is not None}
        answer = _put(client, **body)
        assert answer.status_code == 400, (change, answer.text)
        assert answer.json()["error"] == error, (change, answer.text)
        assert answer.json()["error_description"]
    assert _read(client) == before


def test_an_update_needs_the_registration_access_token(live_server):
    iss, key = issuer(live_server, "best-practice"), Key()
    client, other = jwt_client(iss, key), jwt_client(iss, Key())
    body = {"client_id": client["client_id"], "client_name": "Taken over",
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["client_credentials"], "jwks": {"keys": [key.jwk]}}
    for token in ("", "wrong", other["registration_access_token"]):
        answer = _put(client, token, **body)
        assert answer.status_code == 401, (token, answer.text)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert _read(client)["client_name"] == "Signed"


def test_a_secret_client_s_update_keeps_its_secret_and_checks_it(live_server):
    """RFC 7592 §2.2: a ``client_secret`` in the body must be the current one."""
    iss = issuer(live_server, "best-practice")
    client = iss.register(grant_types=["client_credentials"],
                          token_endpoint_auth_method="client_secret_basic").json()
    body = {"client_id": client["client_id"], "client_name": "Updated",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic"}
    wrong = _put(client, **body, client_secret="not-it")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client_metadata"
    answer = _put(client, **body, client_secret=client["client_secret"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_secret"] == client["client_secret"]
    assert answer.json()["client_name"] == "Updated"
    token = requests.post(iss.meta["token_endpoint"], timeout=10,
                          data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"]))
    assert token.status_code == 200, token.text


def test_an_update_holds_across_servers_sharing_the_store(serve):
    one, two = serve(), serve()
    key = Key()
    client = jwt_client(Issuer(one.url, "best-practice"), key)
    at_two = {**client, "registration_client_uri": client[
        "registration_client_uri"].replace(one.url, two.url)}
    answer = _put(at_two, client_id=client["client_id"], client_name="Moved",
                  token_endpoint_auth_method="private_key_jwt",
                  grant_types=["client_credentials"], jwks={"keys": [key.jwk]})
    assert answer.status_code == 200, answer.text
    assert _read(client)["client_name"] == "Moved"


# -- dpop_bound_access_tokens (RFC 9449 §5.2) ---------------------------------------


def test_dpop_bound_access_tokens_is_kept_and_enforced(live_server):
    """RFC 9449 §5.2: a client registered with ``true`` gets no token without a
    proof (``invalid_dpop_proof``, as FAPI 2.0 answers one); with a proof, a DPoP
    token. A client without it may still ask for a Bearer token."""
    iss, key = issuer(live_server, "best-practice"), Key()
    bound = jwt_client(iss, key, dpop_bound_access_tokens=True)
    assert bound["dpop_bound_access_tokens"] is True
    assert _read(bound)["dpop_bound_access_tokens"] is True
    cid = bound["client_id"]
    bare = iss.post("token_endpoint", iss.assertion(cid, key),
                    grant_type="client_credentials")
    assert bare.status_code == 400, bare.text
    assert bare.json()["error"] == "invalid_dpop_proof"
    prover = Client(iss.meta)
    prover.learn_nonce()
    url = iss.meta["token_endpoint"]
    token = requests.post(url, timeout=10, headers={
        "DPoP": prover.proof("POST", url)}, data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION,
        "client_assertion": iss.assertion(cid, key)})
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "DPoP"
    free = jwt_client(iss, key, dpop_bound_access_tokens=False)
    assert free["dpop_bound_access_tokens"] is False
    assert "dpop_bound_access_tokens" not in jwt_client(iss, key)
    answer = iss.post("token_endpoint", iss.assertion(free["client_id"], key),
                      grant_type="client_credentials")
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"


def test_a_dpop_bound_public_client_s_code_waits_for_a_proof(live_server):
    """RFC 9449 §5.2 with the code grant: the refusal consumes nothing."""
    iss = issuer(live_server, "best-practice")
    answer = iss.register(redirect_uris=[CALLBACK], token_endpoint_auth_method="none",
                          dpop_bound_access_tokens=True)
    assert answer.status_code == 201, answer.text
    cid = answer.json()["client_id"]
    browser = Sandbox(live_server.url, live_server.app.config)
    browser.issuer = iss.id
    verifier, challenge = pkce_pair()
    code = browser.code(SimpleNamespace(client_id=cid), scope="user-read-email",
                        code_challenge=challenge, code_challenge_method="S256")
    form = {"grant_type": "authorization_code", "code": code, "client_id": cid,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    url = iss.meta["token_endpoint"]
    bare = requests.post(url, data=form, timeout=10)
    assert bare.status_code == 400 and bare.json()["error"] == "invalid_dpop_proof"
    prover = Client(iss.meta)
    prover.learn_nonce()
    tokens = requests.post(url, data=form, timeout=10,
                           headers={"DPoP": prover.proof("POST", url)})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["token_type"] == "DPoP"
