"""The sandbox's signing keys and single-use values, on both databases: two keys
per algorithm, published without private members and verifiable by their kid,
rotated without breaking what the older key signed, sealed at rest; a jti counts
once, a pushed request is taken once, across connections as across processes."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time

import jwt
import pytest
from sqlalchemy import select

from flowlab.core.storage.sandbox_tables import signing_keys
from flowlab.sandbox import keys
from flowlab.sandbox import once
from flowlab.sandbox.store import DB


def _secret(app) -> str:
    return app.config["SECRET_KEY"]


def test_jwks_has_two_keys_per_algorithm_and_no_private_member(app):
    with DB.connection(app) as conn:
        published = keys.jwks(conn, _secret(app))["keys"]
    assert sorted(key["alg"] for key in published) == ["ES256", "ES256",
                                                       "RS256", "RS256"]
    for key in published:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
        assert key["use"] == "sig" and key["kid"] == keys.thumbprint(key)
    assert len({key["kid"] for key in published}) == 4


def test_a_signature_verifies_with_the_published_key_its_kid_names(app):
    with DB.connection(app) as conn:
        for alg in keys.ALGS:
            kid, private = keys.signing_key(conn, _secret(app), alg)
            token = jwt.encode({"sub": "alice"}, private, alg, headers={"kid": kid})
            published = {key["kid"]: key
                         for key in keys.jwks(conn, _secret(app))["keys"]}
            public = jwt.PyJWK(published[jwt.get_unverified_header(token)["kid"]])
            assert jwt.decode(token, public.key, [alg])["sub"] == "alice"


def test_rotation_signs_with_a_new_key_and_keeps_the_last_one_published(app):
    with DB.connection(app) as conn:
        old_kid, _ = keys.signing_key(conn, _secret(app), "ES256")
        new_kid = keys.rotate(conn, _secret(app), "ES256")
        assert keys.signing_key(conn, _secret(app), "ES256")[0] == new_kid != old_kid
        kids = [key["kid"] for key in keys.jwks(conn, _secret(app))["keys"]
                if key["alg"] == "ES256"]
        assert sorted(kids) == sorted([old_kid, new_kid])
        keys.rotate(conn, _secret(app), "ES256")
        kids = [key["kid"] for key in keys.jwks(conn, _secret(app))["keys"]]
        assert old_kid not in kids and new_kid in kids


def test_private_keys_are_sealed_at_rest(app):
    with DB.connection(app) as conn:
        keys.jwks(conn, _secret(app))
        rows = conn.execute(select(signing_keys)).all()
    assert len(rows) == 4
    for row in rows:
        assert b"PRIVATE KEY" not in bytes(row.sealed)
        assert '"d"' not in row.public_jwk


def test_connections_making_keys_at_once_agree_on_them(app):
    seen, errors = [], []

    def make() -> None:
        try:
            with DB.connection(app) as conn:
                seen.append(keys.jwks(conn, _secret(app)))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len({json.dumps(found, sort_keys=True)
                               for found in seen}) == 1


def test_thumbprint_matches_rfc_7638_example():
    """RFC 7638 §3.1's RSA key and its thumbprint."""
    n = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
         "FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7"
         "_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQv"
         "RL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_x"
         "BniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
    jwk = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_jti_counts_once_until_it_expires(app):
    with DB.connection(app) as conn:
        later = time.time() + 60
        assert once.use_once(conn, "jti", "abc", later)
        assert not once.use_once(conn, "jti", "abc", later)
        assert once.use_once(conn, "dpop-jti", "abc", later)  # another cache
        assert once.use_once(conn, "jti", "spent", time.time() - 1)
        assert once.use_once(conn, "jti", "spent", later)  # expired: fresh again


def test_a_pushed_value_is_taken_once_and_kept_as_a_digest(app):
    uri = "urn:ietf:params:oauth:request_uri:" + "x" * 20
    with DB.connection(app) as conn:
        assert once.put(conn, "par", uri, {"client_id": "c"}, time.time() + 60)
        assert not once.put(conn, "par", uri, {"client_id": "d"}, time.time() + 60)
        dump = str(conn.execute(select(once.once_values)).all())
        digest = hashlib.sha256(uri.encode()).hexdigest()
        assert uri not in dump and digest in dump
        assert once.take(conn, "par", uri) == {"client_id": "c"}
        assert once.take(conn, "par", uri) is None
        assert once.put(conn, "par", "late", {"a": 1}, time.time() - 1)
        assert once.take(conn, "par", "late") is None


@pytest.mark.parametrize("alg", keys.ALGS)
def test_kid_is_the_base64url_sha256_of_the_required_members(app, alg):
    with DB.connection(app) as conn:
        key = next(k for k in keys.jwks(conn, _secret(app))["keys"] if k["alg"] == alg)
    required = {"RS256": ("e", "kty", "n"), "ES256": ("crv", "kty", "x", "y")}[alg]
    canonical = "{" + ",".join(f'"{name}":"{key[name]}"' for name in required) + "}"
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert key["kid"] == expected
