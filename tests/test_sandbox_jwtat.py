"""JWT access tokens (RFC 9068), resource indicators (RFC 8707), the API's audience
check, protected resource metadata (RFC 9728) and token exchange (RFC 8693) at the
best-practice and FAPI 2.0 issuers, over HTTP.

The tokens are checked as an independent resource server would: the key comes from
the JWK Set named by the issuer's metadata, built and verified with ``cryptography``
alone (nothing from ``flowlab``). The browser part of a code flow (login, consent)
is driven by the tests' plain-``requests`` client.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from tests.independent import Client
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query

PRM = "/.well-known/oauth-protected-resource"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
MCP = "https://mcp.example.com/tools"


def at(server, path: str) -> Sandbox:
    sandbox = Sandbox(server.url, server.app.config)
    sandbox.issuer = server.url + path
    return sandbox


@pytest.fixture
def best(live_server) -> Sandbox:
    return at(live_server, "/sandbox/best-practice")


@pytest.fixture
def spotify(live_server) -> Sandbox:
    return at(live_server, "/sandbox")


@pytest.fixture
def fapi(live_server) -> Sandbox:
    return at(live_server, "/sandbox/fapi2")


def b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verified(sandbox: Sandbox, token: str) -> tuple[dict, dict]:
    """Header and claims of a JWS checked with the issuer's published RSA key
    (RFC 9068 §4: key from the metadata's jwks_uri, by kid)."""
    meta = requests.get(sandbox.base + "/.well-known/oauth-authorization-server"
                        + sandbox.issuer.removeprefix(sandbox.base), timeout=5).json()
    keys = requests.get(meta["jwks_uri"], timeout=5).json()["keys"]
    head, body, signature = token.split(".")
    header = json.loads(b64(head))
    assert header["alg"] == "RS256"
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    public = RSAPublicNumbers(int.from_bytes(b64(jwk["e"]), "big"),
                              int.from_bytes(b64(jwk["n"]), "big")).public_key()
    public.verify(b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(),
                  hashes.SHA256())
    return header, json.loads(b64(body))


def code_tokens(sandbox: Sandbox, scope: str = "user-read-email user-read-private",
                authorize: dict | None = None, token: dict | None = None) -> dict:
    """A code flow with PKCE for the confidential web demo app."""
    verifier, challenge = pkce_pair()
    code = sandbox.code(sandbox.web, scope=scope, code_challenge=challenge,
                        code_challenge_method="S256", **(authorize or {}))
    answer = sandbox.token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CALLBACK, "code_verifier": verifier,
                            **(token or {})}, sandbox.web_auth())
    assert answer.status_code == 200, answer.text
    return answer.json()


def metadata_url(sandbox: Sandbox) -> str:
    return sandbox.base + PRM + sandbox.issuer.removeprefix(sandbox.base) + "/v1"


def test_access_token_is_a_signed_rfc9068_jwt(best):
    """RFC 9068 §2.1, §2.2: typ at+jwt; iss, exp, aud, sub, client_id, iat, jti and
    scope as a space-separated string; the default audience is the issuer's API."""
    before = int(time.time())
    tokens = code_tokens(best)
    header, claims = verified(best, tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["iss"] == best.issuer
    assert claims["aud"] == best.issuer + "/v1"
    assert claims["sub"] == "alice"
    assert claims["client_id"] == best.web.client_id
    assert claims["scope"] == "user-read-email user-read-private"
    assert before - 5 <= claims["iat"] <= claims["exp"] - 3000
    assert claims["jti"]
    assert best.api("/me", tokens["access_token"]).status_code == 200
    # The refresh token stays opaque, and a refresh gives another JWT.
    assert tokens["refresh_token"].count(".") < 2
    again = best.token({"grant_type": "refresh_token",
                        "refresh_token": tokens["refresh_token"]}, best.web_auth())
    _, renewed = verified(best, again.json()["access_token"])
    assert renewed["jti"] != claims["jti"] and renewed["aud"] == claims["aud"]


def test_client_credentials_token_names_the_client_as_subject(best):
    """RFC 9068 §2.2: without a resource owner, sub is the client's id."""
    answer = best.token({"grant_type": "client_credentials"}, best.web_auth())
    _, claims = verified(best, answer.json()["access_token"])
    assert claims["sub"] == claims["client_id"] == best.web.client_id
    assert best.api("/artists/kQz7kFsGTSXgIamAi6Io3e",
                    answer.json()["access_token"]).status_code == 200


def test_spotify_like_keeps_opaque_tokens_and_its_challenge(spotify):
    tokens = spotify.user_tokens()
    assert tokens["access_token"].count(".") < 2
    refused = spotify.api("/me", "nope")
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="spotify"')
    assert "resource_metadata" not in refused.headers["WWW-Authenticate"]
    assert requests.get(metadata_url(spotify), timeout=5).status_code == 404
    meta = requests.get(spotify.url("/.well-known/oauth-authorization-server"),
                        timeout=5).json()
    assert EXCHANGE not in meta["grant_types_supported"]


def test_resource_narrows_the_audience_and_the_api_checks_its_own(best):
    """RFC 8707 §2: resource at authorize and token; RFC 9068 §4 at the API: a
    token for another audience is refused with invalid_token (RFC 6750 §3.1)."""
    api = best.issuer + "/v1"
    both = {"resource": [api, MCP]}
    tokens = code_tokens(best, authorize=both, token={"resource": MCP})
    _, claims = verified(best, tokens["access_token"])
    assert claims["aud"] == MCP
    refused = best.api("/me", tokens["access_token"])
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert f'resource_metadata="{metadata_url(best)}"' in challenge
    # A refresh may narrow to the API, not widen past what was granted.
    narrowed = best.token({"grant_type": "refresh_token", "resource": api,
                           "refresh_token": tokens["refresh_token"]}, best.web_auth())
    _, claims = verified(best, narrowed.json()["access_token"])
    assert claims["aud"] == api
    assert best.api("/me", narrowed.json()["access_token"]).status_code == 200
    wider = best.token({"grant_type": "refresh_token",
                        "resource": "https://elsewhere.example/",
                        "refresh_token": tokens["refresh_token"]}, best.web_auth())
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_target"
    tokens = code_tokens(best, authorize=both)
    _, claims = verified(best, tokens["access_token"])
    assert sorted(claims["aud"]) == sorted([api, MCP])
    assert best.api("/me", tokens["access_token"]).status_code == 200
    # This API's path at another host is another resource.
    elsewhere = "https://elsewhere.example" + api.removeprefix(best.base)
    tokens = code_tokens(best, authorize={"resource": elsewhere})
    assert best.api("/me", tokens["access_token"]).status_code == 401


def test_a_token_request_cannot_widen_the_granted_resources(best):
    verifier, challenge = pkce_pair()
    code = best.code(best.web, code_challenge=challenge, code_challenge_method="S256")
    wider = best.token({"grant_type": "authorization_code", "code": code,
                        "redirect_uri": CALLBACK, "code_verifier": verifier,
                        "resource": MCP}, best.web_auth())
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_target"


@pytest.mark.sqlite_only
@pytest.mark.parametrize("resource", ["/sandbox/best-practice/v1", "mcp.example.com",
                                      "https://mcp.example.com/tools#all", ""])
def test_invalid_target_at_authorize_and_token(best, resource):
    """RFC 8707 §2: an absolute URI without a fragment, else invalid_target, sent
    to the client at authorize (with iss, RFC 9207) and as a 400 at the token
    endpoint."""
    code_tokens(best)  # the user has approved the app: errors come at once
    verifier, challenge = pkce_pair()
    answer = best.authorize({"response_type": "code", "client_id": best.web.client_id,
                             "redirect_uri": CALLBACK, "state": "s1",
                             "code_challenge": challenge,
                             "code_challenge_method": "S256", "resource": resource})
    found = query(answer.headers["Location"])
    assert found["error"] == "invalid_target" and found["iss"] == best.issuer
    token = best.token({"grant_type": "client_credentials", "resource": resource},
                       best.web_auth())
    assert token.status_code == 400 and token.json()["error"] == "invalid_target"


def test_client_credentials_with_resources(best):
    answer = best.token({"grant_type": "client_credentials",
                         "resource": [MCP, best.issuer + "/v1"]}, best.web_auth())
    _, claims = verified(best, answer.json()["access_token"])
    assert sorted(claims["aud"]) == sorted([MCP, best.issuer + "/v1"])


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", ["/sandbox/best-practice", "/sandbox/fapi2"])
def test_protected_resource_metadata_and_the_401_that_names_it(live_server, path):
    """RFC 9728 §3.1: the well-known segment before the resource's path; §3.2 the
    document's resource equals the resource identifier; §5.1 resource_metadata in
    every 401 of the API."""
    sandbox = at(live_server, path)
    url = live_server.url + PRM + path + "/v1"
    document = requests.get(url, timeout=5)
    assert document.status_code == 200
    assert document.headers["Content-Type"].startswith("application/json")
    found = document.json()
    assert found["resource"] == sandbox.issuer + "/v1"
    assert found["authorization_servers"] == [sandbox.issuer]
    assert "user-read-email" in found["scopes_supported"]
    assert found["bearer_methods_supported"] == ["header"]
    anonymous = requests.get(sandbox.url("/v1/me"), timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{url}"')
    bad = sandbox.api("/me", "not-a-token")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert f'resource_metadata="{url}"' in bad.headers["WWW-Authenticate"]
    meta = requests.get(live_server.url + "/.well-known/oauth-authorization-server"
                        + path, timeout=5).json()
    assert meta["jwks_uri"].startswith(sandbox.issuer)


def test_a_token_of_one_issuer_is_refused_at_the_other_api(best, fapi, spotify):
    tokens = code_tokens(best)
    refused = fapi.api("/me", tokens["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    opaque = spotify.user_tokens()["access_token"]
    assert best.api("/me", opaque).status_code == 401


def introspect(sandbox: Sandbox, token: str, auth: dict | None = None) -> dict:
    answer = requests.post(sandbox.url("/api/introspect"), data={"token": token},
                           headers=auth or sandbox.web_auth(), timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_introspection_then_revocation_of_a_jwt(best):
    """RFC 7662 §2.2 for a JWT access token; RFC 7009: once revoked, introspection
    says inactive and the API refuses it, whatever its exp says."""
    tokens = code_tokens(best, authorize={"resource": [best.issuer + "/v1", MCP]})
    token = tokens["access_token"]
    _, claims = verified(best, token)
    found = introspect(best, token)
    assert found["active"] is True
    assert sorted(found["aud"]) == sorted(claims["aud"])
    for name in ("scope", "client_id", "sub", "exp", "iat", "iss"):
        assert found[name] == claims[name], name
    assert found["token_type"] == "Bearer"
    revoked = requests.post(best.url("/api/revoke"), data={"token": token},
                            headers=best.web_auth(), timeout=5)
    assert revoked.status_code == 200
    assert introspect(best, token) == {"active": False}
    refused = best.api("/me", token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def exchange(sandbox: Sandbox, auth: dict | None, **fields) -> requests.Response:
    data = {"grant_type": EXCHANGE, "subject_token_type": ACCESS_TOKEN_TYPE, **fields}
    return sandbox.token(data, auth)


def test_token_exchange_narrows_and_names_the_actor(best):
    """RFC 8693 §2.1, §2.2.1: a narrower token for the same subject, with an act
    claim naming the client that exchanged (§4.1)."""
    meta = requests.get(best.url("/.well-known/oauth-authorization-server"),
                        timeout=5).json()
    assert EXCHANGE in meta["grant_types_supported"]
    subject = code_tokens(best, authorize={"resource": [best.issuer + "/v1", MCP]})
    answer = exchange(best, best.web_auth(), subject_token=subject["access_token"],
                      resource=MCP, scope="user-read-email")
    assert answer.status_code == 200, answer.text
    issued = answer.json()
    assert issued["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert issued["token_type"] == "Bearer" and "refresh_token" not in issued
    assert answer.headers["Cache-Control"] == "no-store"
    header, claims = verified(best, issued["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == MCP and claims["sub"] == "alice"
    assert claims["scope"] == "user-read-email"
    assert claims["act"] == {"sub": best.web.client_id}
    assert best.api("/me", issued["access_token"]).status_code == 401
    # audience= narrows as resource= does; no narrowing keeps the subject's.
    same = exchange(best, best.web_auth(), subject_token=subject["access_token"],
                    audience=best.issuer + "/v1").json()
    assert best.api("/me", same["access_token"]).status_code == 200
    assert introspect(best, same["access_token"])["active"] is True


def test_token_exchange_refusals(best, spotify):
    subject = code_tokens(best)["access_token"]
    auth = best.web_auth()
    cases = [
        ({}, "invalid_request"),
        ({"subject_token": subject, "subject_token_type": "urn:x:other"},
         "invalid_request"),
        ({"subject_token": "bp.forged"}, "invalid_grant"),
        ({"subject_token": spotify.user_tokens()["access_token"]}, "invalid_grant"),
        ({"subject_token": subject, "resource": MCP}, "invalid_target"),
        ({"subject_token": subject, "audience": "not a uri"}, "invalid_target"),
        ({"subject_token": subject, "scope": "user-read-email playlist-modify-public"},
         "invalid_scope"),
    ]
    for fields, error in cases:
        answer = exchange(best, auth, **fields)
        assert answer.status_code == 400, (fields, answer.text)
        assert answer.json()["error"] == error, (fields, answer.text)
    public = exchange(best, None, subject_token=subject, client_id=best.spa.client_id)
    assert public.status_code == 401 and public.json()["error"] == "invalid_client"
    wrong = exchange(best, basic(best.web.client_id, "wrong"), subject_token=subject)
    assert wrong.status_code == 401
    requests.post(best.url("/api/revoke"), data={"token": subject}, headers=auth,
                  timeout=5)
    gone = exchange(best, auth, subject_token=subject)
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"


@pytest.mark.sqlite_only
def test_only_best_practice_offers_token_exchange(fapi):
    meta = requests.get(fapi.url("/.well-known/oauth-authorization-server"),
                        timeout=5).json()
    assert EXCHANGE not in meta["grant_types_supported"]
    assert meta["jwks_uri"] == fapi.issuer + "/.well-known/jwks.json"
    client = Client(meta)  # FAPI 2.0 checks a DPoP proof (with its nonce) first
    data = {"grant_type": EXCHANGE, "subject_token_type": ACCESS_TOKEN_TYPE,
            "subject_token": "anything"}
    for _ in range(2):
        proof = client.proof("POST", meta["token_endpoint"])
        answer = fapi.token(data, {**fapi.web_auth(), "DPoP": proof})
        client.remember_nonce(answer)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"
