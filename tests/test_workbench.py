"""The JWT workbench and "explain this value" (issue 22 part 3), over HTTP.

A plain ``requests`` client posts the two pages' forms, as a browser without
JavaScript would, against the app on a real port. Tokens are signed here with
``cryptography`` alone (nothing from ``flowlab``): RS, PS, ES, EdDSA and HS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.sandbox_helpers import Sandbox

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# RFC 7636 Appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
DIGEST_HEX = "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"
# RFC 7638 §3.1.
RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
         "FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93"
         "lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
         "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3X"
         "PksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def text_of(page: requests.Response) -> str:
    """The page's words, tags dropped and entities read, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def post(server, path: str, **fields) -> requests.Response:
    """Open the page, then post its form with ``fields`` and its CSRF token."""
    http = requests.Session()
    form = http.get(server(path), timeout=10)
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)
    return http.post(server(path), data={"csrf_token": token, **fields},
                     timeout=30)


# --- signing, with cryptography alone ------------------------------------------

def sign(alg: str, key, claims: dict, header: dict | None = None) -> str:
    head = b64u(json.dumps({"alg": alg, "typ": "JWT", **(header or {})}).encode())
    body = b64u(json.dumps(claims).encode())
    data = f"{head}.{body}".encode()
    size = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
    if alg.startswith("HS"):
        signature = hmac.new(key, data, getattr(hashlib, "sha" + alg[2:])).digest()
    elif alg.startswith("RS"):
        signature = key.sign(data, padding.PKCS1v15(), size[alg[2:]])
    elif alg.startswith("PS"):
        digest = size[alg[2:]]
        signature = key.sign(data, padding.PSS(padding.MGF1(digest),
                                               digest.digest_size), digest)
    elif alg.startswith("ES"):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(size[alg[2:]])))
        width = (key.curve.key_size + 7) // 8
        signature = r.to_bytes(width, "big") + s.to_bytes(width, "big")
    else:  # EdDSA
        signature = key.sign(data)
    return f"{head}.{body}.{b64u(signature)}"


def pem(private) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwk(private, kid: str) -> dict:
    public = private.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "kid": kid,
                "n": b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8,
                                             "big")),
                "e": b64u(numbers.e.to_bytes(3, "big"))}
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return {"kty": "EC", "kid": kid, "crv": "P-256",
                "x": b64u(numbers.x.to_bytes(32, "big")),
                "y": b64u(numbers.y.to_bytes(32, "big"))}
    raw = public.public_bytes(serialization.Encoding.Raw,
                              serialization.PublicFormat.Raw)
    return {"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64u(raw)}


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
CLAIMS = {"iss": "https://issuer.example", "sub": "alice", "aud": "my-app",
          "exp": 4102444800, "iat": 1700000000}


def verify(server, token: str, key: str = "", secret: str = "",
           fetch: bool = False) -> tuple[requests.Response, str]:
    fields = {"token": token, "key": key, "secret": secret}
    if fetch:
        fields["fetch"] = "on"
    page = post(server, "/inspect/jwt", **fields)
    return page, text_of(page)


# --- explain this value ----------------------------------------------------------

def test_s256_challenge_of_rfc7636_appendix_b(live_server):
    page = post(live_server, "/inspect/value", what="s256", verifier=VERIFIER,
                challenge=CHALLENGE)
    assert page.status_code == 200
    text = text_of(page)
    # Appendix B's octets of the verifier, its SHA-256, then base64url.
    assert "100 66 106 102 116 74 101 90" in text  # ASCII bytes, in decimal
    assert DIGEST_HEX in text
    assert CHALLENGE in text
    wrong = b64u(DIGEST_HEX.encode())
    assert wrong in text  # the common wrong answer is shown, named as wrong
    assert "matches the S256 challenge" in text
    assert "RFC 7636 §4.2" in text


def test_s256_names_the_hex_confusion(live_server):
    wrong = b64u(DIGEST_HEX.encode())
    text = text_of(post(live_server, "/inspect/value", what="s256",
                        verifier=VERIFIER, challenge=wrong))
    assert "base64url of the hex digest" in text
    assert "does not match the S256 challenge" in text
    text = text_of(post(live_server, "/inspect/value", what="s256",
                        verifier=VERIFIER, challenge=DIGEST_HEX))
    assert "the hex digest itself" in text
    text = text_of(post(live_server, "/inspect/value", what="s256",
                        verifier=VERIFIER, challenge=VERIFIER))
    assert "the verifier itself (plain)" in text


def test_s256_says_when_a_verifier_breaks_rfc7636_rules(live_server):
    text = text_of(post(live_server, "/inspect/value", what="s256",
                        verifier="too short"))
    assert "43 to 128 characters" in text


def test_jwk_thumbprint_of_rfc7638_example(live_server):
    text = text_of(post(live_server, "/inspect/value", what="thumbprint",
                        jwk=json.dumps(RFC7638_KEY)))
    members = ('{"e":"AQAB","kty":"RSA","n":"' + RFC7638_KEY["n"] + '"}')
    assert members in text  # required members only, sorted, no whitespace
    assert RFC7638_THUMBPRINT in text
    assert "RFC 7638 §3" in text


def test_thumbprint_of_an_ec_key_leaves_private_members_out(live_server):
    key = jwk(EC_KEY, "k1")
    d = b64u(EC_KEY.private_numbers().private_value.to_bytes(32, "big"))
    text = text_of(post(live_server, "/inspect/value", what="thumbprint",
                        jwk=json.dumps({**key, "d": d})))
    canonical = json.dumps({k: key[k] for k in ("crv", "kty", "x", "y")},
                           separators=(",", ":"), sort_keys=True)
    assert b64u(hashlib.sha256(canonical.encode()).digest()) in text
    assert d not in text


@pytest.mark.parametrize(("what", "alg", "name"), [
    ("at_hash", "RS256", "sha256"), ("c_hash", "ES384", "sha384"),
    ("at_hash", "PS512", "sha512")])
def test_at_hash_and_c_hash_are_the_left_half(live_server, what, alg, name):
    value = ("SlAV32hkKG" if what == "at_hash"
             else "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk")
    digest = hashlib.new(name, value.encode()).digest()
    half = b64u(digest[: len(digest) // 2])
    text = text_of(post(live_server, "/inspect/value", what=what, value=value,
                        alg=alg, claimed=half))
    assert digest.hex() in text and digest[: len(digest) // 2].hex() in text
    assert half in text
    assert "matches" in text and "does not match" not in text
    assert "OpenID Connect Core §3.1.3.6" in text or "§3.3.2.11" in text


def test_at_hash_of_a_token_masks_the_token(live_server):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    text = text_of(post(live_server, "/inspect/value", what="at_hash",
                        value=token, alg="RS256", claimed="wrong"))
    assert token not in text
    assert "does not match" in text


def test_basic_header_decoded_with_the_secret_masked(live_server):
    secret = "s3cr+t/with:colon%and-long-tail-9876"
    raw = "my%20app:" + requests.utils.quote(secret, safe="")
    value = "Basic " + base64.b64encode(raw.encode()).decode()
    page = post(live_server, "/inspect/value", what="basic", header=value)
    text = text_of(page)
    assert "my app" in text  # form-urlencoding undone (RFC 6749 §2.3.1)
    assert "s3cr…9876" in text  # masked as the runner masks
    assert secret not in page.text
    assert requests.utils.quote(secret, safe="") not in page.text
    assert value.split()[1] not in page.text
    assert "RFC 6749 §2.3.1" in text


def test_a_form_without_its_csrf_token_is_refused(live_server):
    refused = requests.post(live_server("/inspect/value"),
                            data={"what": "s256", "verifier": VERIFIER}, timeout=10)
    assert refused.status_code == 400


# --- the JWT workbench -----------------------------------------------------------

@pytest.mark.parametrize(("alg", "private", "as_pem"), [
    ("RS256", RSA_KEY, False), ("RS384", RSA_KEY, True), ("PS256", RSA_KEY, False),
    ("ES256", EC_KEY, True), ("ES256", EC_KEY, False), ("EdDSA", ED_KEY, False),
    ("EdDSA", ED_KEY, True)])
def test_signatures_verify_with_a_pasted_key(live_server, alg, private, as_pem):
    token = sign(alg, private, CLAIMS, {"kid": "k1"})
    key = pem(private) if as_pem else json.dumps({"keys": [jwk(private, "k1")]})
    page, text = verify(live_server, token, key=key)
    assert page.status_code == 200
    assert "Signature valid" in text, text
    assert alg in text
    assert "sub" in text and "alice" in text  # claims decoded
    # The claims are explained from the glossary the runner uses.
    assert "When the token expires, as seconds since the Unix epoch." in text


def test_hs256_with_a_pasted_secret_never_echoes_it(live_server):
    secret = "a-shared-secret-of-enough-length-123456"
    token = sign("HS256", secret.encode(), CLAIMS)
    page, text = verify(live_server, token, secret=secret)
    assert "Signature valid" in text
    assert secret not in page.text
    page, text = verify(live_server, token,
                        secret="another-secret-of-enough-length-0000000")
    assert "Signature invalid" in text and "signature does not match" in text


def test_kid_picks_the_key_and_says_why(live_server):
    keys = {"keys": [jwk(OTHER_RSA, "old"), jwk(RSA_KEY, "new")]}
    token = sign("RS256", RSA_KEY, CLAIMS, {"kid": "new"})
    _, text = verify(live_server, token, key=json.dumps(keys))
    assert "Signature valid" in text
    assert "kid \"new\" names one key of the 2" in text
    # No kid: each key of the right kty is tried, and the page says so.
    token = sign("RS256", RSA_KEY, CLAIMS)
    _, text = verify(live_server, token, key=json.dumps(keys))
    assert "no kid" in text and "tried each RSA key" in text
    assert "Signature valid" in text and "\"new\"" in text


def test_a_key_that_does_not_match_says_which(live_server):
    token = sign("RS256", RSA_KEY, CLAIMS, {"kid": "k1"})
    # No key with that kid.
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [jwk(RSA_KEY, "k2")]}))
    assert "no key with kid \"k1\"" in text and "\"k2\"" in text
    # The kid names a key of another type.
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [jwk(EC_KEY, "k1")]}))
    assert "kty mismatch" in text and "EC" in text and "RSA" in text
    # The kid names a key meant for another algorithm.
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [{**jwk(RSA_KEY, "k1"),
                                               "alg": "PS256"}]}))
    assert "alg mismatch" in text and "PS256" in text
    # The kid names a key for encryption, not signatures.
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [{**jwk(RSA_KEY, "k1"), "use": "enc"}]}))
    assert "use mismatch" in text and "Signature valid" not in text
    # An EC key on another curve than the token's alg names.
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    on_p384 = {"kty": "EC", "kid": "k1", "crv": "P-384",
               "x": b64u(p384.x.to_bytes(48, "big")),
               "y": b64u(p384.y.to_bytes(48, "big"))}
    _, text = verify(live_server, sign("ES256", EC_KEY, CLAIMS, {"kid": "k1"}),
                     key=json.dumps(on_p384))
    assert "crv mismatch" in text and "P-256" in text
    # Right kid, right type, wrong key.
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [jwk(OTHER_RSA, "k1")]}))
    assert "Signature invalid" in text and "signature does not match" in text
    assert "Signature valid" not in text


def test_alg_confusion_is_refused(live_server):
    """RFC 8725 §2.1, §3.1: an HS256 token "signed" with the RSA public key's PEM
    as the HMAC secret must not verify, whether the PEM comes as the key or the
    secret."""
    public_pem = pem(RSA_KEY)
    token = sign("HS256", public_pem.encode(), CLAIMS)
    _, text = verify(live_server, token, key=public_pem)
    assert "Signature valid" not in text
    assert "kty mismatch" in text and "RFC 8725" in text
    page, text = verify(live_server, token, secret=public_pem)
    assert "Signature valid" not in text
    assert "RFC 8725" in text and "public key" in text
    assert public_pem not in page.text


def test_alg_none_is_refused(live_server):
    head = b64u(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{head}.{b64u(json.dumps(CLAIMS).encode())}."
    _, text = verify(live_server, token,
                     key=json.dumps({"keys": [jwk(RSA_KEY, "k1")]}))
    assert "Signature valid" not in text
    assert "alg \"none\"" in text and "never accepted" in text


def test_a_token_of_the_sandbox_verifies_with_its_jwks_uri(live_server):
    token = sandbox_token(live_server)
    _, text = verify(live_server, token, fetch=True)
    assert "Signature valid" in text, text
    issuer = live_server.url + "/sandbox/best-practice"
    assert f"named by {issuer}/.well-known/openid-configuration" in text
    assert "jwks_uri" in text
    assert token not in text  # an access token is a credential: masked
    # Without the box ticked, nothing is fetched and the page says there is no key.
    _, text = verify(live_server, token)
    assert "Signature valid" not in text and "No key" in text


def test_not_a_jwt_is_said_so(live_server):
    page, text = verify(live_server, "hello", key="{}")
    assert page.status_code == 200
    assert "not a JWS" in text


def test_nothing_pasted_is_logged_or_kept(live_server, caplog):
    """The token and the secret reach no log record and no cookie."""
    secret = "a-shared-secret-nobody-else-should-see-42"
    token = sign("HS256", secret.encode(), CLAIMS)
    with caplog.at_level("DEBUG"):
        page, text = verify(live_server, token, secret=secret)
        basic_page = post(live_server, "/inspect/value", what="basic",
                          header="Basic " + base64.b64encode(
                              f"app:{secret}".encode()).decode())
    assert "Signature valid" in text
    for answer in (page, basic_page):
        assert secret not in answer.text
        assert secret not in answer.headers.get("Set-Cookie", "")
        assert token not in answer.text
    assert secret not in caplog.text and token not in caplog.text


def sandbox_token(server) -> str:
    """A JWT access token of the best-practice issuer (RFC 9068)."""
    best = Sandbox(server.url, server.app.config)
    best.issuer = server.url + "/sandbox/best-practice"
    answer = best.token({"grant_type": "client_credentials"}, best.web_auth())
    return answer.json()["access_token"]


def test_a_remote_requester_cannot_make_it_fetch_loopback(live_server):
    """Outbound rules (``core/outbound.py``): for a browser on another machine the
    issuer's keys are fetched from public addresses only; the sandbox's loopback
    issuer is refused before any connection."""
    client = live_server.app.test_client()
    remote = {"base_url": "http://127.0.0.1",
              "environ_base": {"REMOTE_ADDR": "192.0.2.7"}}
    form = client.get("/inspect/jwt", **remote)
    token = CSRF.search(form.text).group(1)
    answer = client.post("/inspect/jwt", **remote, data={
        "csrf_token": token, "token": sandbox_token(live_server), "fetch": "on"})
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())
    assert "not a public address" in text
    assert "Signature valid" not in text


# --- the JSON API: no cookie, no CSRF token --------------------------------------

def api(server, what: str, body) -> requests.Response:
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(server("/api/inspect/" + what), data=data, timeout=30,
                         headers={"Content-Type": "application/json"})


def test_api_verifies_a_jwt_and_names_the_key(live_server):
    keys = {"keys": [jwk(OTHER_RSA, "old"), jwk(RSA_KEY, "new")]}
    answer = api(live_server, "jwt", {"token": sign("ES256", EC_KEY, CLAIMS,
                                                    {"kid": "new"}),
                                      "key": json.dumps(keys)})
    assert answer.status_code == 200
    body = answer.json()
    assert body["valid"] is False
    assert body["keys"][0]["kid"] == "new"
    assert body["keys"][0]["outcome"] == "kty mismatch"
    token = sign("PS256", RSA_KEY, CLAIMS, {"kid": "new"})
    body = api(live_server, "jwt", {"token": token, "key": json.dumps(keys)}).json()
    assert body["valid"] is True and body["alg"] == "PS256"
    assert body["keys"] == [{"kid": "new", "kty": "RSA", "alg": None,
                             "outcome": "valid", "why": "PS256 with this key."}]
    parts = {p["name"]: p for p in body["parts"]}
    assert parts["sub"]["value"] == "alice"
    assert parts["exp"]["explain"].startswith("When the token expires")
    assert parts["exp"]["ref"] == "RFC 7662 §2.2; RFC 7519 §4.1.4"


def test_api_refuses_alg_none_and_never_echoes_a_secret(live_server):
    head = b64u(json.dumps({"alg": "none"}).encode())
    body = api(live_server, "jwt", {"token": f"{head}.{b64u(b'{}')}.",
                                    "secret": "x" * 40}).json()
    assert body["valid"] is False and "never accepted" in body["problem"]
    secret = "the-api-secret-that-stays-hidden-1234"
    answer = api(live_server, "jwt", {"token": sign("HS256", secret.encode(), CLAIMS),
                                      "secret": secret})
    assert answer.json()["valid"] is True
    assert secret not in answer.text and "Set-Cookie" not in answer.headers


def test_api_works_a_value_out(live_server):
    body = api(live_server, "value", {"what": "s256", "verifier": VERIFIER,
                                      "challenge": b64u(DIGEST_HEX.encode())}).json()
    assert [s["value"] for s in body["steps"]][1:] == [DIGEST_HEX, CHALLENGE]
    assert body["verdict"]["ok"] is False
    assert "base64url of the hex digest" in body["verdict"]["message"]
    body = api(live_server, "value", {"what": "thumbprint",
                                      "jwk": json.dumps(RFC7638_KEY)}).json()
    assert body["steps"][-1]["value"] == RFC7638_THUMBPRINT
    answer = api(live_server, "value", {"what": "nothing"})
    assert answer.status_code == 400 and "error" in answer.json()


def test_api_answers_400_to_malformed_json_and_413_over_64_kb(live_server):
    for what in ("jwt", "value"):
        bad = api(live_server, what, "{not json")
        assert bad.status_code == 400 and "error" in bad.json()
        listed = api(live_server, what, "[1, 2]")
        assert listed.status_code == 400 and "error" in listed.json()
        big = api(live_server, what, {"token": "x" * (65 * 1024)})
        assert big.status_code == 413 and "error" in big.json()
