"""The exercises' JSON contract (issue 20 §3), driven by an independent client.

Nothing here imports the project: plain ``requests`` does what a learner's script
and browser would do (sign in with "Continue as <name>", "Agree", curl-like token
requests), and the grade comes back from the attempt's status resource. The only
thing taken from the project's fixtures is the address of a served app.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from urllib.parse import parse_qs
from urllib.parse import quote_plus
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests

FORM = re.compile(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
BUTTON = re.compile(r"<button([^>]*)>(.*?)</button>", re.S)
ATTR = re.compile(r'(\w+)="([^"]*)"')
ARTIST = "kQz7kFsGTSXgIamAi6Io3e"


# -- a learner's tools ------------------------------------------------------------

def start(base: str, exercise: str) -> dict:
    answer = requests.post(f"{base}/api/exercises/{exercise}/attempts", timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def grade(base: str, attempt: dict) -> dict:
    answer = requests.get(urljoin(base + "/", attempt["status"]), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    return answer.json()


def failed(report: dict) -> list[dict]:
    return [check for check in report["checks"] if not check["passed"]]


def basic(attempt: dict) -> dict:
    raw = f"{quote_plus(attempt['client_id'])}:{quote_plus(attempt['client_secret'])}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def click(browser: requests.Session, page: requests.Response, label: str,
          **fields) -> requests.Response:
    """Press the button whose text starts with ``label``, as a browser would."""
    for action, body in FORM.findall(page.text):
        for attrs, text in BUTTON.findall(body):
            if " ".join(html.unescape(text).split()).startswith(label):
                data = {k: html.unescape(v) for k, v in HIDDEN.findall(body)}
                attr = dict(ATTR.findall(attrs))
                if "name" in attr:
                    data[attr["name"]] = html.unescape(attr.get("value", ""))
                data.update(fields)
                return browser.post(urljoin(page.url, html.unescape(action)),
                                    data=data, allow_redirects=False, timeout=10)
    raise AssertionError(f"no {label!r} button on {page.url}")


def sign_in(attempt: dict, **params) -> dict:
    """Open the authorization URL, sign in as the first demo user and agree; the
    query the sandbox sent back to the redirect URI ({} if it never did)."""
    browser = requests.Session()
    query = {"response_type": "code", "client_id": attempt["client_id"],
             "redirect_uri": attempt["redirect_uri"], **params}
    query = {k: v for k, v in query.items() if v is not None}
    page = browser.get(attempt["issuer"] + "/authorize", params=query,
                       allow_redirects=False, timeout=10)
    for _ in range(8):
        if page.is_redirect:
            location = urljoin(page.url, page.headers["Location"])
            if location.startswith(attempt["redirect_uri"]):
                return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
            page = browser.get(location, allow_redirects=False, timeout=10)
        elif "Agree" in page.text:
            page = click(browser, page, "Agree")
        elif "Continue as" in page.text:
            page = click(browser, page, "Continue as")
        else:
            return {}
    raise AssertionError("the sign-in never ended")


def token(attempt: dict, data: dict, auth: dict | None = None) -> requests.Response:
    return requests.post(attempt["issuer"] + "/api/token", data=data,
                         headers=auth or {}, timeout=10)


def api(attempt: dict, path: str, access_token: str) -> requests.Response:
    return requests.get(attempt["issuer"] + path, timeout=10,
                        headers={"Authorization": f"Bearer {access_token}"})


def code_flow(attempt: dict, scope: str = "user-read-email") -> dict:
    """Sign in and redeem as a confidential client with Basic auth."""
    sent = sign_in(attempt, scope=scope, state=secrets.token_urlsafe(8))
    answer = token(attempt, {"grant_type": "authorization_code", "code": sent["code"],
                             "redirect_uri": attempt["redirect_uri"]}, basic(attempt))
    assert answer.status_code == 200, answer.text
    return answer.json()


def pkce_flow(attempt: dict, scope: str = "user-read-email", **params) -> dict:
    """Sign in with S256 PKCE and redeem as a public client."""
    verifier, challenge = pkce_pair()
    sent = sign_in(attempt, scope=scope, code_challenge=challenge,
                   code_challenge_method="S256", **params)
    answer = token(attempt, {"grant_type": "authorization_code", "code": sent["code"],
                             "redirect_uri": attempt["redirect_uri"],
                             "client_id": attempt["client_id"],
                             "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return answer.json()


def solved(base: str, attempt: dict) -> None:
    report = grade(base, attempt)
    assert report["solved"] is True, failed(report)
    assert all(check["passed"] for check in report["checks"])


# -- the contract -----------------------------------------------------------------

@pytest.fixture
def base(live_server) -> str:
    return live_server.url


def catalogue(base: str) -> list[dict]:
    answer = requests.get(base + "/api/exercises", timeout=10)
    assert answer.status_code == 200
    return answer.json()["exercises"]


def test_every_exercise_keeps_the_contract(base):
    exercises = catalogue(base)
    assert len(exercises) >= 10
    assert len({e["id"] for e in exercises}) == len(exercises)
    assert any("pkce" in e["id"] for e in exercises)
    for exercise in exercises:
        assert exercise["title"] and exercise["id"]
        attempt = start(base, exercise["id"])
        for key in ("attempt", "client_id", "redirect_uri", "issuer", "instructions",
                    "status"):
            assert isinstance(attempt[key], str) and attempt[key], (exercise, key)
        if exercise["client_type"] == "confidential":
            assert attempt["client_secret"]
        else:
            assert "client_secret" not in attempt
        issuer = attempt["issuer"]
        assert issuer.startswith(base + "/"), issuer
        assert attempt["authorization_endpoint"] == issuer + "/authorize"
        assert attempt["token_endpoint"] == issuer + "/api/token"
        assert attempt["status"].startswith(("/", base))
        report = grade(base, attempt)
        assert report["solved"] is False
        assert report["checks"], exercise["id"]
        for check in report["checks"]:
            assert set(check) >= {"id", "passed", "message", "ref"}
            assert check["passed"] is False
            assert check["message"].strip() and check["ref"].strip()
        # The attempt's issuer has the API under it: an unknown token is refused
        # there by the API itself, not by a missing route.
        answer = api(attempt, "/v1/me", "not-a-token")
        assert answer.status_code == 401
        assert answer.json()["error"]["message"]


def test_each_attempt_has_its_own_app(base):
    exercise = next(e["id"] for e in catalogue(base) if "pkce" in e["id"])
    one, two = start(base, exercise), start(base, exercise)
    assert one["client_id"] != two["client_id"]
    assert one["attempt"] != two["attempt"]


def test_unknown_exercise_is_404_json(base):
    answer = requests.post(base + "/api/exercises/no-such-thing/attempts", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]
    answer = requests.get(base + "/api/exercises/attempts/no-such-attempt", timeout=10)
    assert answer.status_code == 404
    assert answer.json()["error"]


def test_no_cookie_is_needed_or_set(base):
    answer = requests.post(base + "/api/exercises/client-credentials/attempts",
                           timeout=10)
    assert answer.status_code == 201
    assert "Set-Cookie" not in answer.headers


# -- solving them -----------------------------------------------------------------

def test_the_pkce_exercise_solved_by_a_script(base):
    attempt = start(base, "pkce-script")
    assert "client_secret" not in attempt
    tokens = pkce_flow(attempt, state=secrets.token_urlsafe(8))
    assert grade(base, attempt)["solved"] is False  # /v1/me not called yet
    assert api(attempt, "/v1/me", tokens["access_token"]).status_code == 200
    solved(base, attempt)


def test_the_pkce_exercise_without_state_is_not_solved(base):
    attempt = start(base, "pkce-script")
    tokens = pkce_flow(attempt)
    assert api(attempt, "/v1/me", tokens["access_token"]).status_code == 200
    report = grade(base, attempt)
    assert report["solved"] is False
    assert any("state" in check["message"] for check in failed(report))


def test_the_pkce_exercise_with_plain_is_not_solved(base):
    attempt = start(base, "pkce-script")
    verifier = secrets.token_urlsafe(48)
    sent = sign_in(attempt, scope="user-read-email", state="s1",
                   code_challenge=verifier, code_challenge_method="plain")
    assert "code" not in sent
    report = grade(base, attempt)
    assert report["solved"] is False
    assert any("S256" in check["message"] for check in failed(report))


def test_the_pkce_exercise_refuses_a_secret_it_never_had(base):
    attempt = start(base, "pkce-script")
    verifier, challenge = pkce_pair()
    sent = sign_in(attempt, scope="user-read-email", state="s1",
                   code_challenge=challenge, code_challenge_method="S256")
    answer = token(attempt, {"grant_type": "authorization_code", "code": sent["code"],
                             "redirect_uri": attempt["redirect_uri"]})
    assert answer.status_code in (400, 401)
    report = grade(base, attempt)
    assert report["solved"] is False
    assert any("code_verifier" in check["message"] for check in failed(report))


def test_build_an_authorization_url(base):
    attempt = start(base, "authorization-url")
    assert grade(base, attempt)["solved"] is False
    sent = sign_in(attempt, scope="user-read-email", state="xyz")
    assert sent["state"] == "xyz" and sent["code"]
    solved(base, attempt)


def test_redeem_a_code_with_basic_auth(base):
    attempt = start(base, "redeem-with-curl")
    sent = sign_in(attempt, scope="user-read-email", state="s1")
    # The secret in the body is not what this exercise asks for.
    answer = token(attempt, {"grant_type": "authorization_code", "code": sent["code"],
                             "redirect_uri": attempt["redirect_uri"],
                             "client_id": attempt["client_id"],
                             "client_secret": attempt["client_secret"]})
    assert answer.status_code == 200
    assert api(attempt, "/v1/me", answer.json()["access_token"]).status_code == 200
    report = grade(base, attempt)
    assert report["solved"] is False
    assert any("Basic" in check["message"] for check in failed(report))
    tokens = code_flow(attempt)
    assert api(attempt, "/v1/me", tokens["access_token"]).status_code == 200
    solved(base, attempt)


def test_compute_an_s256_challenge(base):
    attempt = start(base, "s256-challenge")
    assert "/best-practice" in attempt["issuer"]
    verifier, challenge = pkce_pair()
    sent = sign_in(attempt, scope="user-read-email", state="s1",
                   code_challenge=challenge, code_challenge_method="S256")
    answer = token(attempt, {"grant_type": "authorization_code", "code": sent["code"],
                             "redirect_uri": attempt["redirect_uri"],
                             "code_verifier": verifier}, basic(attempt))
    assert answer.status_code == 200, answer.text
    solved(base, attempt)


def test_client_credentials_and_a_catalogue_call(base):
    attempt = start(base, "client-credentials")
    answer = token(attempt, {"grant_type": "client_credentials"}, basic(attempt))
    assert answer.status_code == 200
    access = answer.json()["access_token"]
    assert api(attempt, "/v1/me", access).status_code == 401
    assert grade(base, attempt)["solved"] is False
    assert api(attempt, f"/v1/artists/{ARTIST}", access).status_code == 200
    solved(base, attempt)


def test_refresh_and_keep_the_stored_refresh_token(base):
    attempt = start(base, "refresh-keep")
    first = code_flow(attempt)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    answer = token(attempt, form, basic(attempt))
    assert answer.status_code == 200 and "refresh_token" not in answer.json()
    assert grade(base, attempt)["solved"] is False
    assert token(attempt, form, basic(attempt)).status_code == 200
    solved(base, attempt)


def test_refresh_under_best_practice_and_see_reuse_detection(base):
    attempt = start(base, "refresh-rotation")
    assert "/best-practice" in attempt["issuer"]
    first = pkce_flow(attempt, state="s1")
    old = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
           "client_id": attempt["client_id"]}
    answer = token(attempt, old)
    assert answer.status_code == 200
    new = answer.json()["refresh_token"]
    assert new != first["refresh_token"]
    assert grade(base, attempt)["solved"] is False
    replay = token(attempt, old)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert token(attempt, {**old, "refresh_token": new}).status_code == 400
    solved(base, attempt)


def test_the_device_flow_with_curl(base):
    attempt = start(base, "device-flow")
    started = requests.post(attempt["device_authorization_endpoint"], timeout=10,
                            data={"client_id": attempt["client_id"],
                                  "scope": "user-read-email"})
    assert started.status_code == 200, started.text
    device = started.json()
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": device["device_code"], "client_id": attempt["client_id"]}
    pending = token(attempt, poll)
    assert pending.json()["error"] == "authorization_pending"
    phone = requests.Session()
    page = phone.get(device["verification_uri"], timeout=10)
    page = click(phone, page, "Continue", user_code=device["user_code"])
    while page.is_redirect or "Continue as" in page.text:
        page = (phone.get(urljoin(page.url, page.headers["Location"]),
                          allow_redirects=False, timeout=10)
                if page.is_redirect else click(phone, page, "Continue as"))
    click(phone, page, "Agree")
    for _ in range(10):
        time.sleep(device.get("interval", 5))
        answer = token(attempt, poll)
        if answer.status_code == 200:
            break
    assert answer.status_code == 200, answer.text
    assert api(attempt, "/v1/me", answer.json()["access_token"]).status_code == 200
    solved(base, attempt)


def test_recover_from_invalid_grant(base):
    attempt = start(base, "invalid-grant")
    sent = sign_in(attempt, scope="user-read-email", state="s1")
    form = {"grant_type": "authorization_code", "code": sent["code"],
            "redirect_uri": attempt["redirect_uri"] + "/elsewhere"}
    refused = token(attempt, form, basic(attempt))
    assert refused.json()["error"] == "invalid_grant"
    assert grade(base, attempt)["solved"] is False
    tokens = code_flow(attempt)
    assert api(attempt, "/v1/me", tokens["access_token"]).status_code == 200
    solved(base, attempt)


def test_read_a_403_for_a_missing_scope(base):
    attempt = start(base, "missing-scope")
    narrow = code_flow(attempt, "user-read-email")
    assert api(attempt, "/v1/me/playlists", narrow["access_token"]).status_code == 403
    report = grade(base, attempt)
    assert report["solved"] is False
    wide = code_flow(attempt, "user-read-email playlist-read-private")
    assert api(attempt, "/v1/me/playlists", wide["access_token"]).status_code == 200
    solved(base, attempt)


def test_only_the_attempts_own_traffic_counts(base):
    mine, other = start(base, "client-credentials"), start(base, "client-credentials")
    answer = token(other, {"grant_type": "client_credentials"}, basic(other))
    assert api(other, f"/v1/artists/{ARTIST}",
               answer.json()["access_token"]).status_code == 200
    assert grade(base, other)["solved"] is True
    assert grade(base, mine)["solved"] is False


# -- bounds and expiry ------------------------------------------------------------

def test_attempts_per_address_never_below_fifty_an_hour(serve):
    server = serve(EXERCISE_ATTEMPTS_PER_HOUR=10)  # below the floor: 50 hold
    for _ in range(50):
        start(server.url, "client-credentials")
    answer = requests.post(server.url + "/api/exercises/pkce-script/attempts",
                           timeout=10)
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"]


def test_an_expired_attempt_goes_with_its_app(serve):
    server = serve(EXERCISE_ATTEMPT_TTL=1)
    attempt = start(server.url, "client-credentials")
    form = {"grant_type": "client_credentials"}
    assert token(attempt, form, basic(attempt)).status_code == 200
    time.sleep(1.5)
    start(server.url, "client-credentials")  # any new attempt sweeps expired ones
    answer = requests.get(urljoin(server.url + "/", attempt["status"]), timeout=10)
    assert answer.status_code == 404
    gone = token(attempt, form, basic(attempt))
    assert gone.status_code in (400, 401)
    assert gone.json()["error"] == "invalid_client"
