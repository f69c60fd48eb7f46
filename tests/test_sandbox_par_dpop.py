"""PAR (RFC 9126), DPoP (RFC 9449) and the FAPI 2.0 issuer's rules, over HTTP.

The client here is independent: plain ``requests`` and ``cryptography``, with a
small ES256 JWS signer of its own below (PyJWT, "another library", signs the RSA
proofs of one test); it reads every endpoint from the issuer's
metadata. Only two things come from the harness: the user's browser (log in, agree,
``tests.sandbox_helpers.Sandbox``) and the clients' pre-registration (the server's
operator hands out credentials, ``make_client``). Until private_key_jwt is merged,
the FAPI client authenticates with ``client_secret_basic`` (see ``auth``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests import independent
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import make_client

FAPI, BEST, SPOTIFY = "/sandbox/fapi2", "/sandbox/best-practice", "/sandbox"
URN = "urn:ietf:params:oauth:request_uri:"


# -- The independent client -----------------------------------------------------

def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jws(header: dict, claims: dict, private) -> str:
    """A compact ES256 JWS (RFC 7515 §3.1, RFC 7518 §3.4: R and S, 32 bytes each)."""
    signing_input = (b64u(json.dumps(header).encode()) + "."
                     + b64u(json.dumps(claims).encode()))
    r, s = decode_dss_signature(private.sign(signing_input.encode(),
                                             ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class Key:
    """A client's DPoP key pair (P-256) and the proofs it signs (RFC 9449 §4.2)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256",
                    "x": b64u(numbers.x.to_bytes(32, "big")),
                    "y": b64u(numbers.y.to_bytes(32, "big"))}

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint: required members, sorted, no whitespace."""
        canonical = json.dumps(self.jwk, sort_keys=True, separators=(",", ":"))
        return b64u(hashlib.sha256(canonical.encode()).digest())

    def proof(self, htm: str, htu: str, nonce: str | None = None,
              token: str | None = None, **changes) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        claims = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu,
                  "iat": int(time.time())}
        if nonce:
            claims["nonce"] = nonce
        if token:
            claims["ath"] = b64u(hashlib.sha256(token.encode()).digest())
        for name, value in changes.items():
            target = header if name in ("typ", "alg", "jwk") else claims
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        return jws(header, claims, self.private)


def auth(client_id: str, secret: str | None) -> dict:
    """Client authentication as at the token endpoint: Basic for a confidential
    client (private_key_jwt once merged), the bare ``client_id`` for a public one."""
    if secret is None:
        return {"data": {"client_id": client_id}, "headers": {}}
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"data": {}, "headers": {"Authorization": "Basic " + raw}}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64u(hashlib.sha256(verifier.encode()).digest())


def query(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Client:
    """One registered client of one issuer, found from the metadata alone."""

    def __init__(self, meta: dict, client_id: str, secret: str | None,
                 browser: Sandbox, signer: independent.Key | None = None) -> None:
        self.meta = meta
        self.client_id, self.secret, self.signer = client_id, secret, signer
        self.browser = browser
        browser.issuer = self.meta["issuer"]
        self.nonce: str | None = None

    def auth(self) -> dict:
        """Basic, a bare client_id, or (``signer``) a fresh private_key_jwt
        assertion for this issuer (RFC 7523 §2.2)."""
        if self.signer is None:
            return auth(self.client_id, self.secret)
        now = int(time.time())
        assertion = self.signer.sign({"kid": self.signer.kid, "typ": "JWT"}, {
            "iss": self.client_id, "sub": self.client_id, "aud": self.meta["issuer"],
            "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16)})
        return {"data": {"client_assertion_type": independent.ASSERTION_TYPE,
                         "client_assertion": assertion}, "headers": {}}

    def push(self, proof: str | None = None, **params) -> requests.Response:
        """Push ``params``; with ``proof``, a DPoP header too (RFC 9449 §10.1)."""
        how = self.auth()
        headers = {**how["headers"], **({"DPoP": proof} if proof else {})}
        response = requests.post(self.meta["pushed_authorization_request_endpoint"],
                                 data={**how["data"], **params}, headers=headers,
                                 timeout=5)
        self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
        return response

    def par_proof(self, key: Key, **changes) -> str:
        """A proof for the PAR endpoint with the last nonce (RFC 9449 §10.1)."""
        return key.proof("POST", self.meta["pushed_authorization_request_endpoint"],
                         self.nonce, **changes)

    def pushed_params(self, **extra) -> tuple[dict, str]:
        verifier, challenge = pkce()
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": CALLBACK, "scope": "user-read-email",
                  "state": "st", "code_challenge": challenge,
                  "code_challenge_method": "S256", **extra}
        return params, verifier

    def code(self, **extra) -> tuple[str, str]:
        """Push, authorize by request_uri as Alice, return (code, verifier)."""
        params, verifier = self.pushed_params(**extra)
        pushed = self.push(**params)
        assert pushed.status_code == 201, pushed.text
        answer = self.authorize(pushed.json()["request_uri"])
        assert answer.status_code in (302, 303), answer.text
        found = query(answer.headers["Location"])
        assert found["iss"] == self.meta["issuer"]  # RFC 9207 §2
        assert found["state"] == "st"
        return found["code"], verifier

    def authorize(self, request_uri: str, **extra) -> requests.Response:
        return self.browser.authorize(
            {"client_id": self.client_id, "request_uri": request_uri, **extra})

    def token(self, data: dict, proof: str | None = None) -> requests.Response:
        how = self.auth()
        headers = dict(how["headers"])
        if proof:
            headers["DPoP"] = proof
        response = requests.post(self.meta["token_endpoint"],
                                 data={**how["data"], **data}, headers=headers,
                                 timeout=5)
        self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
        return response

    def redeem(self, code: str, verifier: str, key: Key | None,
               nonce: bool = True, **changes) -> requests.Response:
        proof = key and key.proof("POST", self.meta["token_endpoint"],
                                  self.nonce if nonce else None, **changes)
        return self.token({"grant_type": "authorization_code", "code": code,
                           "redirect_uri": CALLBACK, "code_verifier": verifier},
                          proof)

    def refresh(self, refresh_token: str, key: Key | None,
                proof: str | None = None) -> requests.Response:
        proof = proof or (key and key.proof("POST", self.meta["token_endpoint"],
                                            self.nonce))
        return self.token({"grant_type": "refresh_token",
                           "refresh_token": refresh_token}, proof)

    def fresh_nonce(self) -> str:
        """A nonce from the challenge to a proof without one (RFC 9449 §8)."""
        answer = self.token({"grant_type": "refresh_token", "refresh_token": "x"},
                            Key().proof("POST", self.meta["token_endpoint"]))
        assert answer.status_code == 400
        assert answer.json()["error"] == "use_dpop_nonce"
        return self.nonce

    def api_url(self, path: str = "/me") -> str:
        return self.meta["issuer"] + "/v1" + path

    def api(self, access: str, key: Key | None, scheme: str = "DPoP",
            **changes) -> requests.Response:
        headers = {"Authorization": f"{scheme} {access}"}
        if key:
            changes.setdefault("nonce", self.nonce)
            changes.setdefault("token", access)
            htm = changes.pop("htm", "GET")
            headers["DPoP"] = key.proof(htm, self.api_url(), **changes)
        return requests.get(self.api_url(), headers=headers, timeout=5)


def metadata_of(base: str, path: str) -> dict:
    well_known = base + "/.well-known/oauth-authorization-server" + path
    return requests.get(well_known, timeout=5).json()


def register(meta: dict) -> tuple[str, independent.Key]:
    """A private_key_jwt client registered with a key of its own (RFC 7591)."""
    signer = independent.Key()
    registered = requests.post(meta["registration_endpoint"], timeout=5, json={
        "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["authorization_code", "refresh_token"],
        "jwks": {"keys": [{**signer.jwk, "kid": signer.kid}]}})
    assert registered.status_code == 201, registered.text
    return registered.json()["client_id"], signer


@pytest.fixture
def clients(live_server):
    """``make(path, confidential)``: a client of the issuer at path: made in the
    store, or where the issuer takes private_key_jwt only (FAPI 2.0), registered
    there with a key of its own."""
    def make(path: str, confidential: bool = True) -> Client:
        meta = metadata_of(live_server.url, path)
        browser = Sandbox(live_server.url, live_server.app.config)
        if meta.get("token_endpoint_auth_methods_supported") == ["private_key_jwt"]:
            client_id, signer = register(meta)
            return Client(meta, client_id, None, browser, signer)
        client, secret = make_client(live_server.app, confidential=confidential)
        return Client(meta, client.client_id, secret, browser)
    return make


def tokens_of(client: Client, key: Key, **extra) -> dict:
    """A code redeemed with a proof, after the nonce challenge."""
    code, verifier = client.code(**extra)
    client.fresh_nonce()
    answer = client.redeem(code, verifier, key)
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_of(response: requests.Response) -> str:
    return response.json()["error"]


# -- Metadata ----------------------------------------------------------------------

def test_each_issuer_says_what_it_offers(live_server, clients):
    """RFC 9126 §5, RFC 9449 §5.1, RFC 9207 §3; Spotify-like offers neither."""
    fapi = clients(FAPI).meta
    assert fapi["pushed_authorization_request_endpoint"] == fapi["issuer"] + "/api/par"
    assert fapi["require_pushed_authorization_requests"] is True
    assert "ES256" in fapi["dpop_signing_alg_values_supported"]
    assert "none" not in fapi["dpop_signing_alg_values_supported"]
    assert fapi["authorization_response_iss_parameter_supported"] is True
    assert fapi["code_challenge_methods_supported"] == ["S256"]
    best = clients(BEST).meta
    assert best["pushed_authorization_request_endpoint"].endswith(BEST + "/api/par")
    assert best.get("require_pushed_authorization_requests", False) is False
    assert "ES256" in best["dpop_signing_alg_values_supported"]
    spotify = clients(SPOTIFY).meta
    assert "pushed_authorization_request_endpoint" not in spotify
    assert "dpop_signing_alg_values_supported" not in spotify
    assert requests.post(live_server.url + SPOTIFY + "/api/par",
                         timeout=5).status_code == 404


# -- The whole FAPI 2.0 path -------------------------------------------------------

def test_fapi2_push_authorize_dpop_tokens_api_and_refresh(clients):
    client, key = clients(FAPI), Key()
    params, verifier = client.pushed_params()
    pushed = client.push(**params)
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Cache-Control"] == "no-store"
    body = pushed.json()
    assert body["request_uri"].startswith(URN) and len(body["request_uri"]) > 40
    assert isinstance(body["expires_in"], int) and 0 < body["expires_in"] <= 600
    answer = client.authorize(body["request_uri"])
    found = query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(CALLBACK)
    assert found["iss"] == client.meta["issuer"] and found["state"] == "st"
    # First try without a nonce: challenged, and the code is still good.
    challenged = client.redeem(found["code"], verifier, key, nonce=False)
    assert challenged.status_code == 400
    assert error_of(challenged) == "use_dpop_nonce"
    assert challenged.headers["DPoP-Nonce"]
    issued = client.redeem(found["code"], verifier, key)
    assert issued.status_code == 200, issued.text
    tokens = issued.json()
    assert tokens["token_type"] == "DPoP"
    me = client.api(tokens["access_token"], key)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == "alice"
    refreshed = client.refresh(tokens["refresh_token"], key)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["token_type"] == "DPoP"
    assert client.api(refreshed.json()["access_token"], key).status_code == 200


# -- PAR ---------------------------------------------------------------------------

def test_push_is_checked_like_an_authorization_request(clients):
    """RFC 9126 §2.1, §2.3: client authentication, then the parameters."""
    client = clients(FAPI)
    params, _ = client.pushed_params()
    wrong = Client.__new__(Client)
    wrong.__dict__.update(client.__dict__, secret="not-the-secret",
                          signer=client.signer and independent.Key())
    refused = wrong.push(**params)
    assert refused.status_code == 401 and error_of(refused) == "invalid_client"
    for change, error in ((
            {"request_uri": URN + "abc"}, "invalid_request"),
            ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
            ({"code_challenge": None, "code_challenge_method": None},
             "invalid_request"),
            ({"scope": "no-such-scope"}, "invalid_scope"),
            ({"response_type": "token"}, "unsupported_response_type")):
        sent = {k: v for k, v in {**params, **change}.items() if v is not None}
        answer = client.push(**sent)
        assert answer.status_code == 400, (change, answer.text)
        assert answer.headers["Content-Type"].startswith("application/json")
        assert error_of(answer) == error, (change, answer.text)


def test_a_request_uri_is_single_use_and_the_clients_own(clients):
    """RFC 9126 §4: client_id must match; one use; unknown ones are refused."""
    client, other = clients(FAPI), clients(FAPI)
    params, _ = client.pushed_params()
    request_uri = client.push(**params).json()["request_uri"]
    stolen = other.authorize(request_uri)
    assert stolen.status_code == 400 and "invalid_request_uri" in stolen.text
    first = client.authorize(request_uri)
    assert first.status_code in (302, 303) and "code" in query(
        first.headers["Location"])
    again = client.authorize(request_uri)
    assert again.status_code == 400 and "invalid_request_uri" in again.text
    unknown = client.authorize(URN + secrets.token_urlsafe(32))
    assert unknown.status_code == 400 and "invalid_request_uri" in unknown.text


def test_fapi2_refuses_authorize_without_par_and_parameters_beside_it(clients):
    """RFC 9126 §5 (required): only client_id and request_uri at authorize."""
    client = clients(FAPI)
    params, _ = client.pushed_params()
    plain = client.browser.authorize(params)
    assert plain.status_code == 400 and "Location" not in plain.headers
    assert "pushed" in plain.text
    request_uri = client.push(**params).json()["request_uri"]
    extra = client.authorize(request_uri, scope="user-read-private")
    assert extra.status_code == 400 and "Location" not in extra.headers
    assert client.authorize(request_uri).status_code in (302, 303)


def test_best_practice_offers_par_and_uses_only_the_pushed_parameters(clients):
    """RFC 9126 §4 with PAR offered: a plain request still works; beside a
    request_uri, a parameter of the query is ignored, the pushed one wins."""
    client = clients(BEST)
    params, verifier = client.pushed_params()
    assert "code" in query(client.browser.authorize(params).headers["Location"])
    request_uri = client.push(**params).json()["request_uri"]
    answer = client.authorize(request_uri, state="other", redirect_uri="x")
    found = query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(CALLBACK)
    assert found["state"] == "st"
    redeemed = client.redeem(found["code"], verifier, None)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["token_type"] == "Bearer"
    assert redeemed.json()["scope"] == "user-read-email"


# -- DPoP at the token endpoint ----------------------------------------------------

def test_bad_proofs_are_refused_and_consume_nothing(clients):
    """RFC 9449 §4.3; a refused request leaves the code as it was."""
    client, key = clients(FAPI), Key()
    code, verifier = client.code()
    url = client.meta["token_endpoint"]
    nonce = client.fresh_nonce()
    without = client.redeem(code, verifier, None)
    assert without.status_code == 400 and error_of(without) == "invalid_dpop_proof"
    other = Key()
    bad = {
        "wrong htm": key.proof("GET", url, nonce),
        "wrong htu": key.proof("POST", url + "/other", nonce),
        "stale iat": key.proof("POST", url, nonce, iat=int(time.time()) - 3600),
        "future iat": key.proof("POST", url, nonce, iat=int(time.time()) + 3600),
        "wrong typ": key.proof("POST", url, nonce, typ="JWT"),
        "symmetric alg": key.proof("POST", url, nonce, alg="HS256"),
        "private jwk": key.proof("POST", url, nonce, jwk={
            **key.jwk, "d": b64u(b"x" * 32)}),
        "no jti": key.proof("POST", url, nonce, jti=None),
        "other key's jwk": key.proof("POST", url, nonce, jwk=other.jwk),
        "not a JWS": "not.a.jws",
    }
    for what, proof in bad.items():
        answer = client.token({"grant_type": "authorization_code", "code": code,
                               "redirect_uri": CALLBACK, "code_verifier": verifier},
                              proof)
        assert answer.status_code == 400, what
        assert error_of(answer) == "invalid_dpop_proof", (what, answer.text)
    # A query on the htu is ignored (RFC 9449 §4.3 point 9).
    good = key.proof("POST", url + "?x=1#f", nonce)
    issued = client.token({"grant_type": "authorization_code", "code": code,
                           "redirect_uri": CALLBACK, "code_verifier": verifier}, good)
    assert issued.status_code == 200, issued.text
    # The same proof again: its jti was seen (RFC 9449 §11.1).
    replay = client.refresh(issued.json()["refresh_token"], None, proof=good)
    assert replay.status_code == 400 and error_of(replay) == "invalid_dpop_proof"


def test_fapi2_refuses_a_refresh_without_a_proof(clients):
    client, key = clients(FAPI), Key()
    tokens = tokens_of(client, key)
    refused = client.refresh(tokens["refresh_token"], None)
    assert refused.status_code == 400 and error_of(refused) == "invalid_dpop_proof"
    assert client.refresh(tokens["refresh_token"], key).status_code == 200


def test_a_public_clients_refresh_token_is_bound_to_its_key(clients):
    """RFC 9449 §5: a public client's refresh token needs the same key; a nonce
    challenge on the way consumes nothing, rotation included."""
    client, key = clients(BEST, confidential=False), Key()
    tokens = tokens_of(client, key)
    assert tokens["token_type"] == "DPoP"
    for wrong in (Key(), None):
        refused = client.refresh(tokens["refresh_token"], wrong)
        assert refused.status_code == 400, refused.text
        assert error_of(refused) == "invalid_dpop_proof"
    challenged = client.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        key.proof("POST", client.meta["token_endpoint"]))
    assert error_of(challenged) == "use_dpop_nonce"
    refreshed = client.refresh(tokens["refresh_token"], key)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["token_type"] == "DPoP"
    assert client.api(refreshed.json()["access_token"], key).status_code == 200


def test_a_confidential_clients_refresh_token_is_bound_by_its_authentication(
        clients):
    """RFC 9449 §5: not to the key; the new access token is bound to the new key."""
    client, first, second = clients(FAPI), Key(), Key()
    tokens = tokens_of(client, first)
    refreshed = client.refresh(tokens["refresh_token"], second)
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    assert client.api(access, second).status_code == 200
    assert client.api(access, first).status_code == 401


def test_dpop_jkt_binds_the_code_to_a_key(clients):
    """RFC 9449 §10: the code is redeemed only with a proof by that key."""
    client, key = clients(FAPI), Key()
    code, verifier = client.code(dpop_jkt=key.jkt)
    client.fresh_nonce()
    refused = client.redeem(code, verifier, Key())
    assert refused.status_code == 400 and error_of(refused) == "invalid_dpop_proof"
    assert client.redeem(code, verifier, key).status_code == 200


# -- DPoP at the API -----------------------------------------------------------------

def test_the_api_checks_the_proof_and_the_binding(clients):
    """RFC 9449 §7.1, §7.2, §9."""
    client, key = clients(FAPI), Key()
    access = tokens_of(client, key)["access_token"]
    bearer = client.api(access, None, scheme="Bearer")
    assert bearer.status_code == 401
    assert "DPoP" in bearer.headers["WWW-Authenticate"]
    for what, answer in {
            "no proof": client.api(access, None),
            "no ath": client.api(access, key, token=None),
            "ath of another token": client.api(access, key, token="other"),
            "another key": client.api(access, Key()),
            "wrong htm": client.api(access, key, htm="POST")}.items():
        assert answer.status_code == 401, what
        challenge = answer.headers["WWW-Authenticate"]
        assert challenge.startswith("DPoP ") and 'error="invalid_dpop_proof"' in (
            challenge), (what, challenge)
        assert "ES256" in challenge
    no_nonce = client.api(access, key, nonce=None)
    assert no_nonce.status_code == 401
    assert 'error="use_dpop_nonce"' in no_nonce.headers["WWW-Authenticate"]
    assert no_nonce.headers["DPoP-Nonce"]
    assert client.api(access, key, nonce=no_nonce.headers["DPoP-Nonce"]
                      ).status_code == 200


def test_spotify_like_ignores_dpop(live_server, clients):
    """The Spotify-like issuer knows nothing of DPoP: a proof changes nothing."""
    sandbox = Sandbox(live_server.url, live_server.app.config)
    code = sandbox.code(sandbox.web)
    url = sandbox.url("/api/token")
    answer = sandbox.token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CALLBACK},
                           {**sandbox.web_auth(), "DPoP": Key().proof("POST", url)})
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    assert "DPoP-Nonce" not in answer.headers


def test_introspection_shows_the_binding(clients):
    """RFC 9449 §6.2: ``cnf.jkt`` of a DPoP-bound token; RFC 7662 §2.2."""
    client, key = clients(FAPI), Key()
    access = tokens_of(client, key)["access_token"]
    how = client.auth()
    answer = requests.post(client.meta["introspection_endpoint"], timeout=5,
                           data={"token": access, **how["data"]},
                           headers=how["headers"])
    assert answer.status_code == 200, answer.text
    claims = answer.json()
    assert claims["active"] is True
    assert claims["cnf"] == {"jkt": key.jkt}
    assert claims["token_type"] == "DPoP"


def test_fapi2_offers_no_device_grant(live_server, clients):
    """FAPI 2.0 SP covers the code flow only; its clients are confidential."""
    fapi = clients(FAPI).meta
    assert "device_authorization_endpoint" not in fapi
    assert not any("device_code" in grant for grant in fapi["grant_types_supported"])
    refused = requests.post(fapi["issuer"] + "/api/device", data={"client_id": "x"},
                            timeout=5)
    assert refused.status_code == 404
    assert "device_authorization_endpoint" in clients(BEST).meta


def test_fapi2_metadata_offers_the_code_flow_only(clients):
    """FAPI 2.0 SP §5.3.2.2: response_type code only; no implicit grant, so no
    fragment response mode either. Best practice still offers them (the lab's
    implicit flow runs there, to be compared)."""
    fapi = clients(FAPI).meta
    assert fapi["response_types_supported"] == ["code"]
    assert "implicit" not in fapi["grant_types_supported"]
    assert fapi["response_modes_supported"] == ["query"]
    best = clients(BEST).meta
    assert "token" in best["response_types_supported"]
    assert "implicit" in best["grant_types_supported"]


def test_rsa_proofs_made_by_another_library_are_checked_too(clients):
    """RS256 and PS256 (RFC 9449 §5.1's list), signed with PyJWT here."""
    client = clients(FAPI)
    url = client.meta["token_endpoint"]
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    nonce = client.fresh_nonce()
    for alg in ("RS256", "PS256"):
        assert alg in client.meta["dpop_signing_alg_values_supported"]
        claims = {"jti": secrets.token_urlsafe(8), "htm": "POST", "htu": url,
                  "iat": int(time.time()), "nonce": nonce}
        proof = jwt.encode(claims, private, algorithm=alg,
                           headers={"typ": "dpop+jwt", "jwk": public})
        # Past every proof check, the grant refuses the made-up refresh token.
        answer = client.refresh("no-such-token", None, proof=proof)
        assert error_of(answer) == "invalid_grant", answer.text
        unsigned = jwt.encode(claims, None, algorithm="none",
                              headers={"typ": "dpop+jwt", "jwk": public})
        answer = client.refresh("no-such-token", None, proof=unsigned)
        assert error_of(answer) == "invalid_dpop_proof"


def test_nonces_and_pushed_requests_hold_across_servers(serve):
    """Two servers on one store and one secret key (as an app's workers, or
    servers sharing PostgreSQL): a request pushed at one is used at the other,
    and one's DPoP nonce is good at the other."""
    one, two = serve(), serve()
    client_id, signer = register(metadata_of(one.url, FAPI))
    browser = Sandbox(two.url, two.app.config)
    at_one = Client(metadata_of(one.url, FAPI), client_id, None, browser, signer)
    at_two = Client(metadata_of(two.url, FAPI), client_id, None, browser, signer)
    params, verifier = at_one.pushed_params()
    request_uri = at_one.push(**params).json()["request_uri"]
    answer = at_two.authorize(request_uri)
    assert answer.status_code in (302, 303), answer.text
    code = query(answer.headers["Location"])["code"]
    at_two.nonce = at_one.fresh_nonce()
    issued = at_two.redeem(code, verifier, Key())
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"


# -- DPoP at the PAR endpoint (RFC 9449 §10.1) ----------------------------------------

def _pushed_with_proof(client: Client, key: Key, **extra) -> tuple[str, str]:
    """Push with a DPoP proof after the PAR endpoint's own nonce challenge;
    authorize as Alice; (code, verifier)."""
    params, verifier = client.pushed_params(**extra)
    challenged = client.push(proof=key.proof(
        "POST", client.meta["pushed_authorization_request_endpoint"]), **params)
    assert challenged.status_code == 400, challenged.text
    assert error_of(challenged) == "use_dpop_nonce"
    assert challenged.headers["DPoP-Nonce"]
    assert challenged.headers["Cache-Control"] == "no-store"
    pushed = client.push(proof=client.par_proof(key), **params)
    assert pushed.status_code == 201, pushed.text
    answer = client.authorize(pushed.json()["request_uri"])
    assert answer.status_code in (302, 303), answer.text
    return query(answer.headers["Location"])["code"], verifier


@pytest.mark.parametrize("path", [FAPI, BEST])
def test_a_proof_at_par_binds_the_code_to_its_key(clients, path):
    """RFC 9449 §10.1: the proof's key binds the code as ``dpop_jkt`` would;
    a token request with a proof by another key is refused and consumes nothing."""
    client, key = clients(path), Key()
    code, verifier = _pushed_with_proof(client, key)
    client.fresh_nonce()
    refused = client.redeem(code, verifier, Key())
    assert refused.status_code == 400, refused.text
    assert error_of(refused) == "invalid_dpop_proof"
    if path == BEST:  # DPoP offered: a bound code wants a proof, not Bearer
        bare = client.redeem(code, verifier, None)
        assert bare.status_code == 400 and error_of(bare) == "invalid_dpop_proof"
    issued = client.redeem(code, verifier, key)
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"
    assert client.api(issued.json()["access_token"], key).status_code == 200


def test_dpop_jkt_and_a_proof_by_another_key_at_par_are_refused(clients):
    """RFC 9449 §10.1: both at once must name the same key."""
    client, key = clients(FAPI), Key()
    client.fresh_nonce()
    params, _ = client.pushed_params(dpop_jkt=Key().jkt)
    refused = client.push(proof=client.par_proof(key), **params)
    assert refused.status_code == 400, refused.text
    assert error_of(refused) == "invalid_dpop_proof"
    assert refused.headers["Content-Type"].startswith("application/json")
    params["dpop_jkt"] = key.jkt
    assert client.push(proof=client.par_proof(key), **params).status_code == 201


def test_a_bad_proof_at_par_is_refused(clients):
    """RFC 9449 §4.3 at the PAR endpoint: htu is the PAR endpoint, htm POST."""
    client, key = clients(FAPI), Key()
    client.fresh_nonce()
    params, _ = client.pushed_params()
    par_url = client.meta["pushed_authorization_request_endpoint"]
    replayed = client.par_proof(key)
    assert client.push(proof=replayed, **params).status_code == 201
    bad = {
        "htu of the token endpoint": key.proof(
            "POST", client.meta["token_endpoint"], client.nonce),
        "wrong htm": key.proof("GET", par_url, client.nonce),
        "stale iat": client.par_proof(key, iat=int(time.time()) - 3600),
        "wrong typ": client.par_proof(key, typ="JWT"),
        "symmetric alg": client.par_proof(key, alg="HS256"),
        "private jwk": client.par_proof(key, jwk={**key.jwk, "d": b64u(b"x" * 32)}),
        "replayed jti": replayed,
        "not a JWS": "not.a.jws",
    }
    for what, proof in bad.items():
        answer = client.push(proof=proof, **params)
        assert answer.status_code == 400, (what, answer.text)
        assert error_of(answer) == "invalid_dpop_proof", (what, answer.text)


def test_spotify_like_has_no_par_and_ignores_proofs_elsewhere(live_server):
    """Unchanged: the Spotify-like issuer has no PAR endpoint, proof or not."""
    url = live_server.url + SPOTIFY + "/api/par"
    answer = requests.post(url, headers={"DPoP": Key().proof("POST", url)},
                           data={"client_id": "x"}, timeout=5)
    assert answer.status_code == 404
