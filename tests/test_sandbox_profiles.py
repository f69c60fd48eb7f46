"""The sandbox's two issuers over HTTP: "Spotify today" at /sandbox and "best
practice" at /sandbox/best-practice (RFC 9700, OAuth 2.1), differing only where
content/sandbox/profile-differences.toml says, each difference checked on the wire."""

from __future__ import annotations

import re
import time
import tomllib
from html import unescape
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urljoin

import pytest
import requests

from flowlab.sandbox import tokenrules
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.sandbox_helpers import CALLBACK
from tests.sandbox_helpers import Sandbox
from tests.sandbox_helpers import basic
from tests.sandbox_helpers import fragment
from tests.sandbox_helpers import pkce_pair
from tests.sandbox_helpers import query

CONTENT = Path(__file__).resolve().parent.parent / "content" / "sandbox"
PATHS = {"spotify-like": "/sandbox", "best-practice": "/sandbox/best-practice"}


def issuer_at(server, profile: str) -> Sandbox:
    """A browser and client of the sandbox issuer of ``profile``."""
    sandbox = Sandbox(server.url, server.app.config)
    sandbox.issuer = server.url + PATHS[profile]
    return sandbox


@pytest.fixture
def spotify(live_server) -> Sandbox:
    return issuer_at(live_server, "spotify-like")


@pytest.fixture
def best(live_server) -> Sandbox:
    return issuer_at(live_server, "best-practice")


def pkce_code(sandbox: Sandbox, client, **extra) -> tuple[str, str]:
    """A code issued with a fresh S256 challenge, and its verifier."""
    verifier, challenge = pkce_pair()
    code = sandbox.code(client, code_challenge=challenge,
                        code_challenge_method="S256", **extra)
    return code, verifier


def public_tokens(sandbox: Sandbox) -> dict:
    code, verifier = pkce_code(sandbox, sandbox.spa, scope="user-read-email")
    response = sandbox.token({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": CALLBACK, "code_verifier": verifier,
                              "client_id": sandbox.spa.client_id})
    assert response.status_code == 200, response.text
    return response.json()


def refresh_public(sandbox: Sandbox, token: str) -> requests.Response:
    return sandbox.token({"grant_type": "refresh_token", "refresh_token": token,
                          "client_id": sandbox.spa.client_id})


@pytest.mark.parametrize("profile", PATHS)
def test_each_issuer_publishes_its_own_metadata(live_server, profile):
    """RFC 8414 §3.1: the issuer's path after the well-known segment; RFC 9207 §3."""
    issuer = live_server.url + PATHS[profile]
    for url in (live_server.url + "/.well-known/oauth-authorization-server"
                + PATHS[profile], issuer + "/.well-known/oauth-authorization-server"):
        claims = requests.get(url, timeout=5).json()
        assert claims["issuer"] == issuer
        assert claims["authorization_response_iss_parameter_supported"] is True
        assert claims["token_endpoint"] == issuer + "/api/token"
        assert claims["authorization_endpoint"] == issuer + "/authorize"
        assert claims["code_challenge_methods_supported"] == ["S256"]


def test_best_practice_sends_iss_on_every_authorization_response(best, spotify):
    """RFC 9207 §2: success, error and fragment responses all name their issuer."""
    code, _ = pkce_code(best, best.web)
    assert code.startswith("bp.")
    params = {"response_type": "code", "client_id": best.web.client_id,
              "redirect_uri": CALLBACK, "state": "s2"}
    success = best.authorize({**params, "code_challenge": pkce_pair()[1],
                              "code_challenge_method": "S256"})
    assert query(success.headers["Location"])["iss"] == best.issuer
    denied = best.authorize({**params, "code_challenge": pkce_pair()[1],
                             "code_challenge_method": "S256", "show_dialog": "true"},
                            decision="cancel")
    assert query(denied.headers["Location"]) == {
        "error": "access_denied", "state": "s2", "iss": best.issuer}
    implicit = best.authorize({"response_type": "token", "state": "s3",
                               "client_id": best.spa.client_id,
                               "redirect_uri": CALLBACK})
    assert fragment(implicit.headers["Location"])["iss"] == best.issuer
    other = spotify.authorize(params)
    assert query(other.headers["Location"])["iss"] == spotify.issuer != best.issuer


def test_pkce_is_required_of_a_confidential_client_under_best_practice(best, spotify):
    """OAuth 2.1 §4.1.1: no code_challenge, no code, even with a client secret."""
    # Alice approves the app first (with PKCE), so its errors come back at once
    # rather than after the "Leaving the sandbox" page (RFC 9700 §4.11.2).
    code, verifier = pkce_code(best, best.web)
    params = {"response_type": "code", "client_id": best.web.client_id,
              "redirect_uri": CALLBACK, "state": "s4"}
    refused = query(best.authorize(params).headers["Location"])
    assert refused["error"] == "invalid_request"
    assert (refused["state"], refused["iss"]) == ("s4", best.issuer)
    assert "code" not in refused
    assert "code" in query(spotify.authorize(params).headers["Location"])
    without = best.redeem(code)
    assert without.status_code == 400
    # Issue 20: a challenged code without its verifier is a failed grant under best
    # practice (OAuth 2.1 §4.1.3); the Spotify issuer says invalid_request.
    assert without.json()["error"] == "invalid_grant"
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    assert best.token(data, best.web_auth()).status_code == 200


@pytest.mark.parametrize("how", ["basic", "body"])
def test_invalid_client_is_401_with_a_challenge_under_best_practice(best, spotify,
                                                                     how):
    """RFC 6749 §5.2: 401 and WWW-Authenticate; Spotify answers 400."""
    data = {"grant_type": "client_credentials"}
    if how == "basic":
        auth = basic(best.web.client_id, "wrong-secret")
    else:
        auth = {}
        data.update(client_id=best.web.client_id, client_secret="wrong-secret")
    answer = best.token(data, auth)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="sandbox"'
    assert answer.headers["Cache-Control"] == "no-store"
    spotify_answer = spotify.token(data, auth)
    assert spotify_answer.status_code == 400
    assert spotify_answer.json()["error"] == "invalid_client"
    assert ("WWW-Authenticate" in spotify_answer.headers) == (how == "basic")


def test_best_practice_rotates_and_a_replay_revokes_the_grant(best):
    """RFC 9700 §4.14.2: a new refresh token each time; the old one replayed
    revokes everything the grant issued."""
    first = public_tokens(best)
    second = refresh_public(best, first["refresh_token"]).json()
    assert second["refresh_token"].startswith("bp.")
    assert second["refresh_token"] != first["refresh_token"]
    assert best.api("/me", second["access_token"]).status_code == 200
    replay = refresh_public(best, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "Refresh token revoked"}
    assert best.api("/me", second["access_token"]).status_code == 401
    assert refresh_public(best, second["refresh_token"]).status_code == 400


def test_spotify_like_keeps_the_refresh_token(spotify):
    """Spotify since 2026: no new refresh token, the old one works again."""
    first = public_tokens(spotify)
    for _ in range(2):
        answer = refresh_public(spotify, first["refresh_token"])
        assert answer.status_code == 200
        assert "refresh_token" not in answer.json()


class _Later:
    """The token rules' clock, ``offset`` seconds ahead of the real one."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset


@pytest.mark.parametrize(("profile", "seconds", "expired"), [
    ("best-practice", 50, False), ("best-practice", 61, True),
    ("spotify-like", 61, False), ("spotify-like", 601, True),
])
def test_code_lifetime(live_server, monkeypatch, profile, seconds, expired):
    """60 s under best practice, 600 s (config) under Spotify today (RFC 6749
    §4.1.2), read at redemption on a clock moved forward."""
    sandbox = issuer_at(live_server, profile)
    code, verifier = pkce_code(sandbox, sandbox.web)
    monkeypatch.setattr(tokenrules, "time", _Later(seconds))
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    answer = sandbox.token(data, sandbox.web_auth())
    if expired:
        assert answer.status_code == 400
        assert answer.json()["error_description"] == "Authorization code expired"
    else:
        assert answer.status_code == 200, answer.text


def test_codes_and_tokens_stay_with_their_issuer(best, spotify):
    """One database, two issuers: each refuses what the other made, and a try at
    the wrong one burns nothing (RFC 9207 §1, RFC 6749 §4.1.3)."""
    code, verifier = pkce_code(best, best.web)
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": CALLBACK, "code_verifier": verifier}
    wrong = spotify.token(data, spotify.web_auth())
    assert wrong.json()["error_description"] == "Invalid authorization code"
    tokens = best.token(data, best.web_auth()).json()
    assert "access_token" in tokens
    theirs = spotify.user_tokens()
    refresh = {"grant_type": "refresh_token", "refresh_token": theirs["refresh_token"]}
    assert best.token(refresh, best.web_auth()).json()["error_description"] == (
        "Invalid refresh token")
    look = requests.post(spotify.url("/api/introspect"), timeout=5,
                         data={"token": tokens["access_token"]},
                         headers=spotify.web_auth())
    assert look.json() == {"active": False}
    assert best.api("/me", tokens["access_token"]).status_code == 200


def test_differences_are_one_data_file_that_matches_the_profiles():
    """Each row whose profiles differ names a setting they differ in, and every
    setting they differ in (the issuer's own path and names aside) has a row."""
    with open(CONTENT / "profiles.toml", "rb") as f:
        profiles = tomllib.load(f)["profile"]
    spotify, best = profiles["spotify-like"], profiles["best-practice"]
    with open(CONTENT / "profile-differences.toml", "rb") as f:
        rows = tomllib.load(f)["difference"]
    own = {"path", "name", "label", "token_prefix"}
    differing = {key for key in {*spotify, *best} - own
                 if spotify.get(key) != best.get(key)}
    named = {row["setting"] for row in rows if not row.get("same")}
    assert named == differing
    for row in rows:
        assert row["rfc"] and all(ref.split()[0] in ("RFC", "OAuth")
                                  for ref in row["rfc"])


def test_every_fapi2_setting_has_a_row_and_every_row_a_fapi2_column():
    """The FAPI 2.0 column of the table: each setting where the FAPI 2.0 issuer
    differs from best practice is a row's setting, and each row says FAPI's way."""
    with open(CONTENT / "profiles.toml", "rb") as f:
        profiles = tomllib.load(f)["profile"]
    best, fapi = profiles["best-practice"], profiles["fapi2"]
    with open(CONTENT / "profile-differences.toml", "rb") as f:
        rows = tomllib.load(f)["difference"]
    own = {"path", "name", "label", "token_prefix"}
    differing = {key for key in {*best, *fapi} - own if best.get(key) != fapi.get(key)}
    assert differing <= {row["setting"] for row in rows}
    assert {"par", "dpop"} <= {row["setting"] for row in rows}
    assert all(row["fapi2"].strip() for row in rows)


def test_profiles_page_shows_every_difference(live_server):
    page = requests.get(live_server.url + "/sandbox/profiles", timeout=5)
    assert page.status_code == 200
    with open(CONTENT / "profile-differences.toml", "rb") as f:
        rows = tomllib.load(f)["difference"]
    assert page.text.count('<tr id="difference-') == len(rows)
    for row in rows:
        for ref in row["rfc"]:
            assert ref in page.text
    assert "/.well-known/oauth-authorization-server/sandbox/best-practice" in page.text
    assert "FAPI 2.0</th>" in page.text


# -- The runner under both issuers ----------------------------------------------

def _finished(page) -> None:
    assert page.status_code == 200
    assert "That is the whole flow" in page.text, page.text[-3000:]
    assert "run-step-failed" not in page.text
    assert "Traceback" not in page.text


def _use(runner: FlowRunner, profile: str) -> None:
    """Choose the sandbox issuer of ``profile`` on the provider page."""
    button = {"spotify-like": "Use the sandbox",
              "best-practice": "Use the sandbox (best practice)"}[profile]
    runner.use_provider(button)


# Flows an issuer does not offer, and the reason the flow's page gives.
NOT_OFFERED = {"spotify-like": {"sign-in-oidc": "is no OpenID provider",
                                 "fapi2": "does not offer dynamic client registration",
                                 "token-exchange": "does not offer token exchange"}}


@pytest.mark.parametrize("profile", PATHS)
def test_every_flow_runs_to_its_end_under_both_issuers(live_server, profile):
    """Every flow the runner knows, run by the lab against each issuer that
    offers it; where one is not offered, its page says so and cannot start."""
    flows = sorted(live_server.app.extensions["flowlab"].runner.flows)
    assert {"authorization-code", "authorization-code-pkce", "client-credentials",
            "implicit", "sign-in-oidc"} <= set(flows)
    not_offered = NOT_OFFERED.get(profile, {})
    for flow_id in flows:
        runner = FlowRunner(live_server)
        _use(runner, profile)
        if flow_id in not_offered:
            page = runner.get(live_server(f"/run/{flow_id}"))
            assert "Start the run" not in page.text
            assert not_offered[flow_id] in page.text
            continue
        _finished(runner.start(flow_id).run_all())
        assert issuer_name(profile) in runner.page.text


def issuer_name(profile: str) -> str:
    return {"spotify-like": "Sandbox provider",
            "best-practice": "Sandbox (best practice)"}[profile]


def test_code_flow_under_best_practice_sends_pkce_and_sees_iss(live_server):
    """The runner's code flow keeps PKCE on, which best practice requires."""
    runner = FlowRunner(live_server)
    _use(runner, "best-practice")
    runner.start("authorization-code")
    runner.next()
    assert "code_challenge=" in runner.next_link()
    assert "/sandbox/best-practice/authorize?" in runner.next_link()
    hops: list[str] = []
    runner.session.hooks["response"].append(
        lambda answer, *args, **kwargs: hops.append(answer.headers.get("Location", "")))
    runner.authorize()
    iss = "iss=" + quote(live_server.url + PATHS["best-practice"], safe="")
    assert any(hop.startswith(live_server.url + "/run/callback?") and iss in hop
               for hop in hops), hops
    assert "run-step-failed" not in runner.page.text


def test_a_run_is_repeated_under_the_other_issuer_and_compared(live_server):
    """Run this again under best practice, then back to the comparison, where
    each difference of that moment is named with its RFC sections."""
    runner = FlowRunner(live_server)
    _use(runner, "spotify-like")
    _finished(runner.start("authorization-code-pkce").run_all())
    first = runner.run_url
    again = submit(runner.session, runner.page, "Run this again under best practice")
    assert again.status_code == 307  # the browser posts the same form to start
    page = runner.follow(runner.session.post(
        urljoin(again.url, again.headers["Location"]), data=again.request.body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False, timeout=10))
    runner.run_url = page.url.split("?")[0]
    assert runner.run_url != first
    second = runner.run_all()
    _finished(second)
    assert "Sandbox (best practice)" in second.text
    # Run B's page offers the way back, under Spotify today.
    assert "Run this again under Spotify today" in second.text
    back = re.search(r'href="([^"]+)">Back to the comparison', second.text)
    compare = runner.get(urljoin(runner.page.url, unescape(back.group(1))))
    assert compare.status_code == 200
    assert "Two sandbox profiles" in compare.text
    moment_rows = [row for row in _rows() if "authorization-url" in row["moments"]]
    assert moment_rows
    for row in moment_rows:
        for ref in row["rfc"]:
            assert ref in compare.text


def _rows() -> list[dict]:
    with open(CONTENT / "profile-differences.toml", "rb") as f:
        return tomllib.load(f)["difference"]
