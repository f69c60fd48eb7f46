"""Sign in with OpenID Connect: discovery, code + PKCE + nonce, the id_token checked
step by step (OpenID Connect Core 1.0 with errata set 2, §3.1.3.7), then userinfo.

The checks are tested as plain functions on tokens signed here; the flow runs end to
end against panva's oidc-provider, found by discovery.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from html import unescape

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from flowlab.core.runner import oidc
from tests.forms import submit
from tests.oidc_harness import SPA
from tests.oidc_harness import WEB
from tests.test_interop import run_all
from tests.test_interop import step
from tests.test_interop import text_of

ISSUER = "https://op.example"
CLIENT = "app-1"
ACCESS = "an-access-token-of-this-run"


def _keys():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    public = []
    for kid, key, alg in (("r1", rsa_key, "RS256"), ("e1", ec_key, "ES256")):
        jwk = jwt.algorithms.get_default_algorithms()[alg].to_jwk(
            key.public_key(), as_dict=True)
        public.append(jwk | {"kid": kid, "alg": alg, "use": "sig"})
    return {"r1": rsa_key, "e1": ec_key}, {"keys": public}


PRIVATE, JWKS = _keys()


def at_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def id_token(kid="r1", alg="RS256", **changes) -> str:
    claims = {"iss": ISSUER, "sub": "u1", "aud": CLIENT, "iat": int(time.time()),
              "exp": int(time.time()) + 300, "nonce": "n-1", "auth_time": 1,
              "at_hash": at_hash(ACCESS)} | changes
    return jwt.encode({k: v for k, v in claims.items() if v is not None},
                      PRIVATE[kid], algorithm=alg, headers={"kid": kid})


def checked(token: str, nonce="n-1", access=ACCESS) -> dict:
    result = oidc.verify_id_token(token, JWKS, ISSUER, CLIENT, nonce,
                                  access_token=access)
    return {c["name"]: c for c in result["checks"]}


CONFIG = {"SECRET_KEY": "test-only"}
ORDER = ["header", "kid", "signature", "iss", "aud", "exp", "nonce", "at_hash"]


@pytest.mark.parametrize(("kid", "alg"), [("r1", "RS256"), ("e1", "ES256")])
def test_a_good_token_passes_every_check_in_order(kid, alg):
    checks = checked(id_token(kid, alg))
    assert list(checks) == ORDER
    assert all(c["ok"] for c in checks.values()), checks
    for name in ORDER:  # each names the rule it applies
        assert checks[name]["section"].startswith("OpenID Connect Core §"), name
    assert "left half" in checks["at_hash"]["detail"]


@pytest.mark.parametrize(("changes", "failed"), [
    ({"iss": "https://evil.example"}, "iss"),
    ({"aud": "someone-else"}, "aud"),
    ({"aud": [CLIENT, "untrusted"]}, "aud"),  # §3.1.3.7: no audience not trusted
    ({"exp": int(time.time()) - 3600}, "exp"),
    ({"nonce": "replayed"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"at_hash": at_hash("another-token")}, "at_hash"),
])
def test_each_claim_check_fails_alone(changes, failed):
    checks = checked(id_token(**changes))
    assert [n for n, c in checks.items() if not c["ok"]] == [failed]


def test_an_unknown_kid_fails_the_key_and_the_signature():
    token = jwt.encode({"iss": ISSUER}, PRIVATE["r1"], algorithm="RS256",
                       headers={"kid": "rotated-away"})
    checks = checked(token)
    assert not checks["kid"]["ok"] and not checks["signature"]["ok"]
    assert "rotated-away" in checks["kid"]["detail"]


def test_alg_none_fails_the_header_and_the_signature():
    token = jwt.encode({"iss": ISSUER, "aud": CLIENT}, None, algorithm="none",
                       headers={"kid": "r1"})
    checks = checked(token)
    assert not checks["header"]["ok"] and not checks["signature"]["ok"]


def test_no_at_hash_is_not_a_failure_in_the_code_flow():
    checks = checked(id_token(at_hash=None))
    assert checks["at_hash"]["ok"] and checks["at_hash"].get("skipped")


def use_oidc(runner, oidc_server, scope="openid profile email"):
    page = runner.use_provider("Use this provider",
                               discovery_url=oidc_server.discovery_url,
                               client_id=WEB[0], client_secret=WEB[1],
                               public_client_id=SPA[0], scope=scope)
    assert f"Now: Provider at {oidc_server.issuer}" in text_of(page.text)


@pytest.mark.interop
def test_sign_in_with_openid_connect_against_oidc_provider(live_server, oidc_server):
    from tests.flowrunner import FlowRunner

    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    start = runner.get(live_server("/run/sign-in-oidc"))
    assert "Sign in with OpenID Connect" in start.text
    runner.start("sign-in-oidc")
    page = run_all(runner)
    assert "run-step-failed" not in page.text, text_of(page.text)[-2000:]
    assert "That is the whole flow." in page.text
    discovery = text_of(step(runner, 1))
    assert "GET /.well-known/openid-configuration HTTP/1.1" in discovery
    assert "jwks_uri" in discovery and "userinfo_endpoint" in discovery
    first = unescape(step(runner, 2))
    url = re.search(r'class="wire-url mono">([^<]+)<', first).group(1)
    assert "nonce=" in url and "code_challenge_method=S256" in url
    assert "scope=openid+profile+email" in url
    token = step(runner, 5)
    assert "GET /jwks HTTP/1.1" in text_of(token)
    for name in ORDER:
        assert re.search(rf'check-ok"><th scope="row">{name}</th>', token), name
    assert "OpenID Connect Core §3.1.3.7" in text_of(token)
    userinfo = text_of(step(runner, 6))
    assert "GET /me HTTP/1.1" in userinfo and "HTTP/1.1 200" in userinfo
    assert "alice@example.test" in userinfo
    # Its metadata names introspection and revocation endpoints: the run's end
    # offers them (RFC 7662, RFC 7009), and userinfo then refuses the token.
    runner.follow(submit(runner.session, page, "Introspect and revoke"))
    page = run_all(runner)
    assert "run-step-failed" not in page.text, text_of(page.text)[-2000:]
    introspect = text_of(step(runner, 7))
    assert "POST /token/introspection HTTP/1.1" in introspect
    assert '"active": true' in introspect and "Authorization: Basic" in introspect
    assert "POST /token/revocation HTTP/1.1" in text_of(step(runner, 8))
    refused = text_of(step(runner, 9))
    assert "GET /me HTTP/1.1" in refused and "HTTP/1.1 401" in refused


def test_offered_only_where_the_provider_profile_is_an_openid_provider():
    from pathlib import Path

    from flowlab.core import providers
    from flowlab.core.content import Content
    from flowlab.core.runner.flows import load_flows

    flows = load_flows(Content(Path(__file__).resolve().parents[1] / "content"))
    flow = [flows["sign-in-oidc"]]
    spotify_like = providers.sandbox("http://127.0.0.1:5000/", CONFIG)
    oidc_issuer = providers.sandbox("http://127.0.0.1:5000/", CONFIG,
                                    "/sandbox/best-practice", "BP", openid=True)
    reasons = {"no_openid": "not an OpenID provider"}
    assert providers.offered(spotify_like, False, reasons, flow) == {
        "sign-in-oidc": "not an OpenID provider"}
    assert providers.offered(oidc_issuer, False, reasons, flow) == {
        "sign-in-oidc": None}


def test_sign_in_with_openid_connect_at_the_best_practice_sandbox(live_server):
    """The same flow against the sandbox's own OpenID provider: discovery, the
    id_token checked in Core §3.1.3.7's order with every check passing, UserInfo."""
    from tests.flowrunner import FlowRunner
    from tests.test_sandbox_profiles import _use

    runner = FlowRunner(live_server)
    _use(runner, "best-practice")
    page = runner.start("sign-in-oidc").run_all()
    assert "run-step-failed" not in page.text, text_of(page.text)[-2000:]
    assert "That is the whole flow." in page.text
    discovery = text_of(step(runner, 1))
    assert ("GET /sandbox/best-practice/.well-known/openid-configuration HTTP/1.1"
            in discovery)
    token = step(runner, 5)
    for name in ORDER:
        assert re.search(rf'check-ok"><th scope="row">{name}</th>', token), name
    assert "check-fail" not in token
    userinfo = text_of(step(runner, 6))
    assert "GET /sandbox/best-practice/api/userinfo HTTP/1.1" in userinfo
    assert "HTTP/1.1 200" in userinfo
