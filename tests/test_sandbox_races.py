"""Two token requests at once, over HTTP (RFC 6749 §4.1.2, §10.5; RFC 9700
§4.14.2): whichever commits first, a refused replay leaves no token of the grant
alive, on both issuers and both backends."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import requests

from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import pkce_pair

PATHS = {"spotify-like": "/sandbox", "best-practice": "/sandbox/best-practice"}
RACES = 30
# The second racer starts up to this many seconds after the first, a different
# offset each race, so the races sweep the window between one request's claim and
# its commit instead of always landing on the same instant.
STAGGER = 0.004


def issuer_at(server, profile: str) -> Sandbox:
    sandbox = Sandbox(server.url, server.app.config)
    sandbox.issuer = server.url + PATHS[profile]
    return sandbox


def race(send, index: int) -> list[requests.Response]:
    """``send()`` twice at once from two threads; both answers, in thread order."""
    barrier = threading.Barrier(2, timeout=10)
    answers: list = [None, None]

    def racer(slot: int) -> None:
        barrier.wait()
        if slot:
            threading.Event().wait(STAGGER * (index % 9) / 8)
        answers[slot] = send()

    threads = [threading.Thread(target=racer, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert None not in answers, "a racer got no answer"
    return answers


def assert_dead(sandbox: Sandbox, body: dict, refresh) -> None:
    """Neither token of ``body`` works any more."""
    me = sandbox.api("/me", body["access_token"], timeout=10)
    assert me.status_code == 401, me.text
    if "refresh_token" in body:
        again = refresh(body["refresh_token"])
        assert again.status_code == 400, again.text
        assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("profile", PATHS)
def test_a_raced_code_leaves_no_live_token(live_server, profile):
    """One redemption wins the claim, the other is refused and revokes the grant:
    the winner's tokens die too, even when it saves them after the revocation."""
    sandbox = issuer_at(live_server, profile)
    client = sandbox.spa if profile == "best-practice" else sandbox.web

    def refresh(token: str) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": token}
        if client.confidential:
            return sandbox.token(data, sandbox.web_auth(), timeout=10)
        return sandbox.token({**data, "client_id": client.client_id}, timeout=10)

    for index in range(RACES):
        verifier, challenge = pkce_pair()
        code = sandbox.code(client, scope="user-read-email", code_challenge=challenge,
                            code_challenge_method="S256")
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": CALLBACK, "code_verifier": verifier}
        if client.confidential:
            send = partial(sandbox.token, data, sandbox.web_auth(), timeout=10)
        else:
            data["client_id"] = client.client_id
            send = partial(sandbox.token, data, timeout=10)
        answers = race(send, index)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses in ([200, 400], [400, 400]), (index, statuses)
        for answer in answers:
            if answer.status_code == 400:
                assert answer.json()["error"] == "invalid_grant"
            else:
                assert_dead(sandbox, answer.json(), refresh)


def test_a_raced_refresh_token_leaves_no_live_token(live_server):
    """Rotation (best practice): two refreshes with one refresh token are a reuse;
    whichever commits first, every token of the grant ends revoked."""
    sandbox = issuer_at(live_server, "best-practice")
    client = sandbox.spa

    def refresh(token: str) -> requests.Response:
        return sandbox.token({"grant_type": "refresh_token", "refresh_token": token,
                              "client_id": client.client_id}, timeout=10)

    for index in range(RACES):
        verifier, challenge = pkce_pair()
        code = sandbox.code(client, scope="user-read-email", code_challenge=challenge,
                            code_challenge_method="S256")
        first = sandbox.token({"grant_type": "authorization_code", "code": code,
                               "redirect_uri": CALLBACK, "code_verifier": verifier,
                               "client_id": client.client_id}, timeout=10).json()
        answers = race(partial(refresh, first["refresh_token"]), index)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses in ([200, 400], [400, 400]), (index, statuses)
        for answer in answers:
            if answer.status_code == 400:
                assert answer.json() == {"error": "invalid_grant",
                                         "error_description": "Refresh token revoked"}
            else:
                assert_dead(sandbox, answer.json(), refresh)
        assert_dead(sandbox, first, refresh)
