"""PKCE at the sandbox (RFC 7636; checklist items 11-17, including oauthlib's gaps:
downgrade, ``plain``, a missing method and the verifier's ABNF)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from flowlab.core.http import s256
from flowlab.sandbox.pkce import verifier_matches
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query

# RFC 7636 Appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture
def sandbox(live_server):
    return Sandbox(live_server.url, live_server.app.config)


def pkce_code(sandbox, challenge: str, **extra) -> str:
    return sandbox.code(sandbox.spa, code_challenge=challenge,
                        code_challenge_method="S256", **extra)


def redeem_public(sandbox, code: str, verifier: str | None):
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "client_id": sandbox.spa.client_id}
    if verifier is not None:
        data["code_verifier"] = verifier
    return sandbox.token(data)


def test_appendix_b_vector():
    """Checklist 11: the verifier's octets and its S256 challenge."""
    octets = list(base64.urlsafe_b64decode(VERIFIER + "="))
    assert len(octets) == 32
    assert octets[:4] == [116, 24, 223, 180] and octets[-2:] == [141, 121]
    digest = list(hashlib.sha256(VERIFIER.encode("ascii")).digest())
    assert digest[:4] == [19, 211, 30, 150] and digest[-2:] == [249, 195]
    assert s256(VERIFIER) == CHALLENGE
    assert verifier_matches(VERIFIER, CHALLENGE)


def test_pkce_flow_with_the_appendix_b_pair(sandbox):
    code = pkce_code(sandbox, CHALLENGE, scope="playlist-read-private")
    response = redeem_public(sandbox, code, VERIFIER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in",
                         "refresh_token"}
    assert body["scope"] == "playlist-read-private"
    assert sandbox.api("/me/playlists", body["access_token"]).status_code == 200


def test_wrong_verifier_is_invalid_grant_and_keeps_the_code(sandbox):
    """Checklist 12; a failed check does not consume the code (documented)."""
    verifier, challenge = pkce_pair()
    code = pkce_code(sandbox, challenge)
    wrong = redeem_public(sandbox, code, pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant",
                            "error_description": "code_verifier was incorrect"}
    assert redeem_public(sandbox, code, verifier).status_code == 200


def test_missing_verifier(sandbox):
    """Checklist 13: Spotify's text."""
    code = pkce_code(sandbox, pkce_pair()[1])
    response = redeem_public(sandbox, code, None)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request",
                               "error_description": "code_verifier required"}


def test_downgrade_verifier_without_challenge_is_refused(sandbox):
    """Checklist 14: a confidential client's code issued without a challenge."""
    code = sandbox.code(sandbox.web)
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": VERIFIER}
    response = sandbox.token(data, sandbox.web_auth())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "without a code_challenge" in response.json()["error_description"]


def authorize_error(sandbox, client, **params) -> dict:
    sandbox.approve(client)  # errors for an approved app come back at once
    base = {"response_type": "code", "client_id": client.client_id,
            "redirect_uri": CALLBACK, "state": "st"}
    response = sandbox.authorize({**base, **params})
    assert response.status_code in (302, 303), response.text
    return query(response.headers["Location"])


def test_public_client_must_send_a_challenge(sandbox):
    """Checklist 15: redirect with invalid_request, state and iss."""
    found = authorize_error(sandbox, sandbox.spa)
    assert found["error"] == "invalid_request"
    assert found["state"] == "st" and found["iss"] == sandbox.issuer


@pytest.mark.parametrize("method", ["plain", "S512", None, "s256"])
def test_only_s256(sandbox, method):
    """Checklist 16: plain, unknown and missing methods are refused."""
    params = {"code_challenge": CHALLENGE}
    if method:
        params["code_challenge_method"] = method
    found = authorize_error(sandbox, sandbox.spa, **params)
    assert found["error"] == "invalid_request"
    assert found["error_description"] == "code_challenge_method must be S256"


@pytest.mark.parametrize("challenge", ["a" * 42, "a" * 129, "a" * 42 + "!",
                                       "a" * 42 + "=", "a" * 42 + "+"])
def test_challenge_abnf_at_authorize(sandbox, challenge):
    """Checklist 17: 43-128 characters of the unreserved set."""
    found = authorize_error(sandbox, sandbox.spa, code_challenge=challenge,
                            code_challenge_method="S256")
    assert found["error"] == "invalid_request"


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, VERIFIER[:-1] + "!",
                                      VERIFIER + "="])
def test_verifier_abnf_at_token(sandbox, verifier):
    """Checklist 17: a malformed verifier is invalid_grant."""
    challenge = s256(verifier) if "!" not in verifier else CHALLENGE
    code = pkce_code(sandbox, challenge)
    response = redeem_public(sandbox, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_confidential_client_may_use_pkce(sandbox):
    """Checklist 6: a valid PKCE request from a client that need not use it."""
    verifier, challenge = pkce_pair()
    code = sandbox.code(sandbox.web, code_challenge=challenge,
                        code_challenge_method="S256", unknown_param="ignored")
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    assert sandbox.token(data, sandbox.web_auth()).status_code == 200
    code = sandbox.code(sandbox.web, code_challenge=challenge,
                        code_challenge_method="S256")
    missing = {"grant_type": "authorization_code", "code": code,
               "redirect_uri": CALLBACK}
    assert sandbox.token(missing, sandbox.web_auth()).json()["error"] == (
        "invalid_request")
