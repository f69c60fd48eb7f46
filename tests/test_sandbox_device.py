"""The device authorization grant (RFC 8628; not in Spotify) over HTTP.

The device is an independent client: plain ``requests``, every address taken from
the sandbox's RFC 8414 metadata, only its client id known beforehand. The user's
phone is a second ``requests`` session that fills in the sandbox's forms.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from sqlalchemy import select

from flowlab.core.demo import demo_apps
from flowlab.core.demo import device_app
from flowlab.core.storage.sandbox_tables import device_codes
from flowlab.sandbox.store import DB
from tests.forms import submit
from tests.sandbox_helpers import basic

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ISSUERS = ("/sandbox", "/sandbox/best-practice")  # content/sandbox/profiles.toml
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")


class Device:
    """A TV app that knows its client id and the issuer, nothing else."""

    def __init__(self, server, issuer_path: str = "/sandbox") -> None:
        self.client_id = device_app(server.app.config).client_id
        well_known = server("/.well-known/oauth-authorization-server" + issuer_path)
        self.metadata = requests.get(well_known, timeout=10).json()

    def start(self, scope: str = "user-read-email", **extra) -> requests.Response:
        """RFC 8628 §3.1: ask for a device code and a user code."""
        data = {"client_id": self.client_id, "scope": scope, **extra}
        return requests.post(self.metadata["device_authorization_endpoint"],
                             data=data, timeout=10)

    def poll(self, device_code: str) -> requests.Response:
        """RFC 8628 §3.4: one token request with the device code."""
        data = {"grant_type": DEVICE_GRANT, "device_code": device_code,
                "client_id": self.client_id}
        return requests.post(self.metadata["token_endpoint"], data=data, timeout=10)


def user_answers(started: dict, decision: str = "Agree", typed: str | None = None):
    """The user on a phone: the code page, sign-in, then Agree or Cancel."""
    phone = requests.Session()
    page = phone.get(started["verification_uri"], timeout=10)
    assert page.status_code == 200 and 'name="user_code"' in page.text
    sent = submit(phone, page, "Continue", user_code=typed or started["user_code"])
    assert sent.status_code == 303, sent.text
    login = phone.get(page.url.rsplit("/sandbox", 1)[0] + sent.headers["Location"])
    assert "Log in to the sandbox" in login.text
    signed_in = submit(phone, login, "Continue as Alice")
    consent = phone.get(login.url.rsplit("/sandbox", 1)[0]
                        + signed_in.headers["Location"], timeout=10)
    assert "Flow Lab TV app (demo)" in consent.text
    assert started["user_code"] in consent.text  # the code to compare (§5.4)
    return submit(phone, consent, decision)


def error_of(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()["error"]


@pytest.fixture
def fast(serve):
    """A sandbox whose device is told to poll every second."""
    return serve(SANDBOX_DEVICE_INTERVAL=1)


def test_metadata_advertises_the_device_grant(live_server):
    metadata = Device(live_server).metadata
    assert metadata["device_authorization_endpoint"] == live_server(
        "/sandbox/api/device")
    assert DEVICE_GRANT in metadata["grant_types_supported"]


def test_device_flow_end_to_end(fast):
    device = Device(fast)
    response = device.start()
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    started = response.json()
    assert set(started) == {"device_code", "user_code", "verification_uri",
                            "verification_uri_complete", "expires_in", "interval"}
    assert USER_CODE.fullmatch(started["user_code"])
    assert started["verification_uri"] == fast("/sandbox/device")
    assert started["verification_uri_complete"] == (
        f"{started['verification_uri']}?user_code={started['user_code']}")
    assert (started["expires_in"], started["interval"]) == (600, 1)

    assert error_of(device.poll(started["device_code"])) == "authorization_pending"
    assert error_of(device.poll(started["device_code"])) == "slow_down"  # too soon
    slowed_at = time.monotonic()
    done = user_answers(started)
    assert done.status_code == 200 and "Device connected" in done.text
    time.sleep(max(0.0, slowed_at + 1 + 5 - time.monotonic()))  # §3.5: +5 s

    tokens = device.poll(started["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "user-read-email"
    assert body["refresh_token"] and body["expires_in"] == 3600
    me = requests.get(device.metadata["issuer"] + "/v1/me", timeout=10,
                      headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == "alice"

    # The device code is spent: a second exchange is refused, the tokens live on.
    assert error_of(device.poll(started["device_code"])) == "invalid_grant"
    again = requests.get(device.metadata["issuer"] + "/v1/me", timeout=10,
                         headers={"Authorization": f"Bearer {body['access_token']}"})
    assert again.status_code == 200


def test_slow_down_raises_the_interval_for_good(fast):
    device = Device(fast)
    code = device.start().json()["device_code"]
    assert error_of(device.poll(code)) == "authorization_pending"
    assert error_of(device.poll(code)) == "slow_down"
    time.sleep(1.5)  # longer than the first interval, shorter than 1 + 5 seconds
    assert error_of(device.poll(code)) == "slow_down"


@pytest.mark.parametrize("issuer_path", ISSUERS)
def test_the_user_cancels(fast, issuer_path):
    device = Device(fast, issuer_path)
    started = device.start().json()
    assert started["verification_uri"] == fast(issuer_path + "/device")
    assert error_of(device.poll(started["device_code"])) == "authorization_pending"
    done = user_answers(started, "Cancel")
    assert "Device not connected" in done.text
    assert error_of(device.poll(started["device_code"])) == "access_denied"


def test_each_issuer_knows_only_its_own_codes(fast):
    spotify_like, best = Device(fast), Device(fast, ISSUERS[1])
    started = best.start().json()
    assert error_of(spotify_like.poll(started["device_code"])) == "invalid_grant"
    phone = requests.Session()
    page = phone.get(fast("/sandbox/device"), timeout=10)
    refused = submit(phone, page, "Continue", user_code=started["user_code"])
    assert refused.status_code == 400
    assert error_of(best.poll(started["device_code"])) == "authorization_pending"


def test_codes_expire(serve):
    server = serve(SANDBOX_DEVICE_TTL=1)
    device = Device(server)
    started = device.start().json()
    assert started["expires_in"] == 1
    time.sleep(1.2)
    assert error_of(device.poll(started["device_code"])) == "expired_token"
    phone = requests.Session()
    page = phone.get(started["verification_uri_complete"], timeout=10)
    refused = submit(phone, page, "Continue")  # the code is filled in already
    assert refused.status_code == 400 and "wrong, used or expired" in refused.text


def test_wrong_user_codes_are_limited(serve):
    server = serve(SANDBOX_USER_CODE_FAILURES_PER_MINUTE=3)
    if time.time() % 60 > 50:  # failures are counted per minute
        time.sleep(61 - time.time() % 60)
    started = Device(server).start().json()
    phone = requests.Session()
    page = phone.get(started["verification_uri"], timeout=10)
    typed = started["user_code"].replace("-", " ").lower()  # §6.1: forgiving
    assert submit(phone, page, "Continue", user_code=typed).status_code == 303
    for wrong in ("BCDF-GHJK", "BCDFGHJJ", "ZZZZ-ZZZZ"):
        answer = submit(phone, page, "Continue", user_code=wrong)
        assert answer.status_code == 400 and "wrong, used or expired" in answer.text
    blocked = submit(phone, page, "Continue", user_code=started["user_code"])
    assert blocked.status_code == 429 and "Too many wrong codes" in blocked.text


def test_only_registered_clients_may_start(live_server):
    device = Device(live_server)
    endpoint = device.metadata["device_authorization_endpoint"]
    unknown = requests.post(endpoint, data={"client_id": "nobody"}, timeout=10)
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"
    web, spa = demo_apps(live_server.app.config)
    for data, headers in (({"client_id": spa.client_id}, {}),  # §3.1: Basic alone
                          ({"scope": ""}, basic(web.client_id, web.client_secret))):
        refused = requests.post(endpoint, data=data, headers=headers, timeout=10)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "unauthorized_client"


def test_codes_are_stored_hashed(live_server):
    started = Device(live_server).start().json()
    with DB.connection(live_server.app) as conn:
        rows = [tuple(row) for row in conn.execute(select(device_codes))]
    dump = str(rows)
    assert rows and started["device_code"] not in dump
    assert started["user_code"].replace("-", "") not in dump
