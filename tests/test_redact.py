"""Redaction by allow-list (flowlab/core/redact.py): the rules as plain functions, then
a real provider's run whose ID token and unknown tokens must never appear in clear."""

from __future__ import annotations

import base64
import json
import re
import time
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import request

from flowlab.core.http import Message
from flowlab.core.redact import SAFE_FIELDS
from flowlab.core.redact import SECRET_FIELDS
from flowlab.core.redact import Redactor
from flowlab.core.redact import secret_field
from flowlab.core.redact import token_shaped
from flowlab.core.runner.records import StepRecord
from flowlab.core.runner.store import Run
from tests import standin
from tests.conftest import PROVIDER_HOST
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner

ROOT = Path(__file__).resolve().parent.parent
JWT_SHAPE = re.compile(rb"eyJ[\w-]+\.[\w-]+\.[\w-]+")
ID_TOKEN = jwt.encode({"sub": "alice", "iss": "https://as.example"}, "k" * 32)
VENDOR = "vendor-session-0123456789abcdefXYZ"  # under an unknown *_token name
HANDLE = "hNd1e7Qz0aBcDeFgHiJkLmNoPq"  # token-shaped, under an unknown name
CLIENT_ID = "flowlab-client"


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("id_token", "short", True),  # a credential's name, whatever the value
    ("vendor_session_token", "x" * 10, True),
    ("accessToken", "abc", True),
    ("client_secret", "s", True),
    ("code", "abc", True),
    ("device_code", "abc", True),
    ("x-api-key", "abc", True),
    ("session_handle", HANDLE, True),  # unknown name, token-shaped value
    ("state", HANDLE, False),  # known safe: travels through the browser
    ("nonce", HANDLE, False),
    ("code_challenge", HANDLE, False),
    ("client_id", "0123456789abcdef0123456789abcdef", False),
    ("scope", "openid profile", False),
    ("token_type", "Bearer", False),
    ("expires_in", "3600", False),
    ("items[].id", "6rqhFgbbKwnb9MLmUQDhG6", False),  # a Spotify id: 22 characters
    ("display_name", "Alice Example", False),
    ("images[].url", "https://i.example/ab12cd34ef56ab12cd34ef56.png", False),
    ("href", "/v1/artists/0a1b2c3d4e5f6a7b8c9d0e1f", False),
])
def test_field_rule(name, value, secret):
    assert secret_field(name, value) is secret


def test_every_safe_name_says_why_and_none_is_also_a_secret():
    rules = tomllib.loads((ROOT / "content" / "redaction.toml").read_text())
    assert all(len(why) > 20 for why in rules["safe"].values())
    assert not SAFE_FIELDS & SECRET_FIELDS


def test_jwts_and_credentials_are_masked_anywhere_unless_revealing():
    redact = Redactor(set())
    text = redact(f"state={ID_TOKEN}&x=1\nAuthorization: Basic Y2xpZW50OnNlY3JldA==")
    assert ID_TOKEN not in text and "Y2xpZW50OnNlY3JldA==" not in text
    assert f"state={ID_TOKEN[:4]}…{ID_TOKEN[-4:]}&x=1" in text
    assert redact('WWW-Authenticate: Bearer realm="x", error="invalid_token"') == (
        'WWW-Authenticate: Bearer realm="x", error="invalid_token"')
    assert token_shaped(ID_TOKEN) and not token_shaped("python-requests/2.32.3")
    assert Redactor(set(), reveal=True)(ID_TOKEN) == ID_TOKEN


def test_a_run_s_id_token_and_unknown_tokens_are_collected():
    body = json.dumps({"access_token": "a" * 30, "token_type": "Bearer",
                       "id_token": ID_TOKEN, "vendor_session_token": VENDOR,
                       "session_handle": HANDLE, "region": "eu-north-1",
                       "scope": "openid profile", "expires_in": 3600})
    response = Message("HTTP/1.1 200 OK", [("Content-Type", "application/json"),
                                           ("Set-Cookie", "sid=cookievalue123; "
                                            "Expires=Wed, 21 Oct 2026 07:28:00 GMT")],
                       body)
    request_ = Message("POST /token HTTP/1.1",
                       [("Authorization", "Basic " + base64.b64encode(
                           b"client:p%40ss-word").decode())], "grant_type=x")
    run = Run("r", "o", "f", {}, secrets={"token": {"id_token": ID_TOKEN,
                                                    "token_type": "Bearer"},
                                          "nonce": "n0nce-value-123456",
                                          "state": "st4te-value-123456"},
              steps=[StepRecord(exchanges=({"request": request_.to_json(),
                                            "response": response.to_json()},),
                                data={"params": [["state", "st4te-value-123456"]]})])
    redact = Redactor.for_run(run, set(), reveal=False)
    found = set(redact.originals)
    assert {ID_TOKEN, VENDOR, HANDLE, "cookievalue123", "p@ss-word"} <= found
    shown = redact(response.as_http() + request_.as_http() + "st4te-value-123456 "
                   "n0nce-value-123456")
    for kept in ("eu-north-1", "openid profile", "Bearer", "3600", "2026 07:28:00",
                 "st4te-value-123456", "n0nce-value-123456"):
        assert kept in shown


# A provider nobody here wrote: the Spotify stand-in, made an OpenID provider whose
# token answers carry a signed ID token and fields no list of names foresaw.
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def oidc_standin():
    app = standin.make_standin()
    app.issued = []

    @app.get("/.well-known/openid-configuration")
    def openid():
        base = request.host_url.rstrip("/")
        return {"issuer": base, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/api/token", "jwks_uri": base + "/jwks",
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"]}

    @app.get("/jwks")
    def jwks():
        key = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        return {"keys": [key | {"kid": "k1", "alg": "RS256", "use": "sig"}]}

    @app.after_request
    def add_tokens(response):
        if request.path != "/api/token" or response.status_code != 200:
            return response
        asked = [s["path"] for s in app.seen if s["path"].startswith("/authorize")]
        nonce = dict(parse_qsl(urlsplit(asked[-1]).query)).get("nonce")
        now = int(time.time())
        token = jwt.encode({"iss": request.host_url.rstrip("/"), "sub": "alice",
                            "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                            "nonce": nonce, "seq": len(app.issued)},
                           KEY, "RS256", headers={"kid": "k1"})
        app.issued.append(token)
        body = response.get_json() | {"id_token": token, "region": "eu-north-1",
                                      "vendor_session_token": VENDOR,
                                      "session_handle": HANDLE}
        response.set_data(json.dumps(body))
        return response

    return app


@pytest.fixture
def provider():
    server = LiveServer(oidc_standin(), backchannel=False, host=PROVIDER_HOST)
    yield server
    server.close()


def test_a_real_provider_s_tokens_never_appear_in_clear(serve, provider, tmp_path):
    lab = serve(HTTP_TIMEOUT=2)
    runner = FlowRunner(lab)
    runner.use_provider(
        "Use this provider", kind="discovered", client_id=CLIENT_ID,
        client_secret="flowlab-client-secret-0123456789",
        discovery_url=provider.url + "/.well-known/openid-configuration",
        api_base=provider.url + "/v1", scope="openid profile")
    runner.start("authorization-code").run_all()
    issued = provider.app.issued
    assert issued, runner.page.text[-2000:]
    token_page = runner.get(f"{runner.run_url}?step=4").text
    assert "run-step-done" in token_page
    assert "The ID token, decoded and checked" in token_page
    assert "eu-north-1" in token_page  # an unknown plain value stays visible
    seen = [runner.get(f"{runner.run_url}?step={n}{reveal}").text.encode()
            for n in range(1, 13) for reveal in ("", "&reveal=1")]
    for fmt in ("md", "sh", "http", "json", "har"):
        answer = runner.session.get(f"{runner.run_url}/export.{fmt}", timeout=10)
        assert answer.status_code == 200, (fmt, answer.text[:300])
        seen.append(answer.content)
    stored = b"".join(p.read_bytes() for p in Path(tmp_path).glob("runs.sqlite3*"))
    for where in [stored, *seen]:
        for raw in [*issued, VENDOR, HANDLE]:
            assert raw.encode() not in where
        assert not JWT_SHAPE.search(where)


@pytest.mark.interop
def test_oidc_provider_s_id_token_never_appears_in_clear(live_server, oidc_server):
    """A real ID token from an OpenID Certified server (tests/oidc_harness.py)."""
    from tests.test_interop import run_all
    from tests.test_interop import use_oidc

    runner = FlowRunner(live_server)
    use_oidc(runner, oidc_server)
    runner.start("authorization-code")
    run_all(runner)
    token_page = runner.get(f"{runner.run_url}?step=4").text
    assert "The ID token, decoded and checked" in token_page
    assert "id_token" in token_page  # the field is there, its value masked
    seen = [runner.get(f"{runner.run_url}?step={n}").text.encode()
            for n in range(1, 10)]
    seen += [runner.session.get(f"{runner.run_url}/export.{fmt}", timeout=10).content
             for fmt in ("md", "sh", "http", "json", "har")]
    database = Path(live_server.app.config["RUNS_DATABASE"])
    seen += [p.read_bytes() for p in database.parent.glob(database.name + "*")]
    for where in seen:
        assert not JWT_SHAPE.search(where)
