"""The FAPI 2.0 flow end to end over HTTP against the sandbox's FAPI 2.0 issuer:
the run registers its own client (RFC 7591), pushes its request with a client
assertion (RFC 9126, RFC 7523), redeems the code with a DPoP proof after the nonce
challenge (RFC 9449 §8), calls the API with ``ath`` and refreshes. Checked on the
wire, on the page, and for secrets left unmasked on the page or in exports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

from tests.flowrunner import FlowRunner
from tests.forms import find_form

FAPI = "Use the sandbox (FAPI 2.0)"
STEPS = ["register", "par", "consent", "callback", "token", "call-api", "refresh"]


def _exchanges(runner: FlowRunner) -> dict[str, list[dict]]:
    """Each step's exchanges, as the JSON export has them."""
    data = runner.session.get(runner.run_url + "/export.json", timeout=10).json()
    steps = data.get("steps") or data["run"]["steps"]
    return {step["id"]: step.get("exchanges", []) for step in steps}


def _status(exchange: dict) -> int:
    return int(exchange["response"]["start_line"].split()[1])


def _body(exchange: dict) -> dict:
    return json.loads(exchange["response"]["body"] or "{}")


def _fapi_run(live_server) -> FlowRunner:
    runner = FlowRunner(live_server)
    runner.use_provider(FAPI)
    runner.start("fapi2")
    runner.run_all()
    return runner


def test_the_fapi2_flow_runs_to_its_end_and_says_so_on_the_wire(live_server):
    runner = _fapi_run(live_server)
    page = runner.page
    assert page.status_code == 200
    assert re.findall(r'class="run-step run-step-(done|failed)"', page.text) == [
        "done"] * len(STEPS)
    assert "That is the whole flow." in page.text

    wire = _exchanges(runner)
    register, registered = wire["register"]
    assert "/.well-known/oauth-authorization-server/sandbox/fapi2" in register[
        "request"]["start_line"]
    assert _status(registered) == 201
    sent = json.loads(registered["request"]["body"])
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["jwks"]["keys"][0]) >= {"kty", "crv", "x", "y", "kid"}
    assert "d" not in sent["jwks"]["keys"][0]

    (par,) = wire["par"]
    assert _status(par) == 201
    assert _body(par)["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert "client_assertion_type=urn" in par["request"]["body"]

    line = wire["callback"][0]["request"]["start_line"].split()[1]
    callback = parse_qs(urlsplit(line).query)
    assert callback["iss"] == [live_server.url + "/sandbox/fapi2"]

    challenge, token = wire["token"]
    assert _status(challenge) == 400
    assert _body(challenge)["error"] == "use_dpop_nonce"
    assert any(k.lower() == "dpop-nonce" for k, _ in challenge["response"]["headers"])
    assert _status(token) == 200 and _body(token)["token_type"] == "DPoP"

    api = wire["call-api"][-1]
    assert _status(api) == 200
    assert any(k.lower() == "authorization" and v.startswith("DPoP ")
               for k, v in api["request"]["headers"])
    refresh = wire["refresh"][-1]
    assert _status(refresh) == 200 and _body(refresh)["token_type"] == "DPoP"


def test_every_jwt_of_the_run_is_decoded_and_the_binding_explained(live_server):
    runner = _fapi_run(live_server)
    token_page = unescape(runner.get(f"{runner.run_url}?step=5").text)
    assert "The client assertion, decoded (RFC 7523 §3)" in token_page
    assert "The DPoP proof, decoded (RFC 9449 §4.2)" in token_page
    assert '"typ": "dpop+jwt"' in token_page and '"jwk": {' in token_page
    assert "SHA-256 of those bytes, in hex" in token_page
    assert '"aud": "' + live_server.url + '/sandbox/fapi2"' in token_page
    assert "yes: the token is bound to the key" in token_page
    # The thumbprint on the page, worked out again here from the proof's jwk.
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd class=\"mono\">(.*?)</dd>",
                            token_page))
    header = json.loads(facts["Header"])  # the last Header shown: the token's
    proofs = [json.loads(v) for k, v in re.findall(
        r"<dt>(Header)</dt><dd class=\"mono\">(.*?)</dd>", token_page)]
    jwk = next(p["jwk"] for p in proofs if p.get("typ") == "dpop+jwt")
    members = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")},
                         separators=(",", ":"), sort_keys=True)
    jkt = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest())
    assert facts["3. base64url without padding: the thumbprint"] == (
        jkt.rstrip(b"=").decode())
    assert header["typ"] == "at+jwt"
    api_page = unescape(runner.get(f"{runner.run_url}?step=6").text)
    assert '"ath": "' in api_page and "SHA-256 of the access token" in api_page
    for number in range(1, len(STEPS) + 1):  # every part of every message
        page = runner.get(f"{runner.run_url}?step={number}").text
        assert 'class="unannotated"' not in page, number


def test_no_private_key_or_assertion_is_left_unmasked(live_server):
    runner = _fapi_run(live_server)
    texts = [runner.get(f"{runner.run_url}?step={n}").text
             for n in range(1, len(STEPS) + 1)]
    texts += [runner.session.get(f"{runner.run_url}/export.{fmt}",
                                 timeout=10).text
              for fmt in ("md", "sh", "http", "json", "har")]
    key = re.compile(r'"d":\s*"|BEGIN (?:EC )?PRIVATE KEY')
    assertion = re.compile(r"client_assertion=eyJ[\w-]{8}"
                           r"|\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
    for text in texts:
        assert not key.search(text)
        assert not assertion.search(unescape(text))


def test_not_offered_where_the_issuer_lacks_registration_par_or_dpop(live_server):
    runner = FlowRunner(live_server)
    runner.use_provider("Use the sandbox")  # Spotify-like: none of RFC 7591/9126/9449
    text = unescape(runner.get(live_server("/run/fapi2")).text)
    assert "FAPI 2.0 cannot run against Sandbox provider:" in text
    assert "Start the run" not in text
    assert "does not offer dynamic client registration (RFC 7591)" in text


def test_run_again_under_best_practice_and_compare(live_server):
    runner = _fapi_run(live_server)
    first = runner.run_url
    form, button = find_form(runner.page.text, "Run this again under best practice")
    runner.follow(runner.session.post(  # a browser re-posts after the 307
        urljoin(runner.page.url, unescape(form["action"])), timeout=10,
        data=[*form["fields"], (button["name"], button["value"])]))
    assert runner.page.url.split("?")[0] != first
    runner.run_url = runner.page.url.split("?")[0]
    runner.run_all()
    assert "That is the whole flow." in runner.page.text
    back = re.search(r'href="([^"]*/compare\?[^"]+)"[^>]*>Back to the comparison',
                     runner.page.text)
    assert back, "the second run's page leads back to a comparison"
    compared = runner.get(live_server(unescape(back.group(1))))
    assert compared.status_code == 200
    assert "/sandbox/fapi2" in compared.text and "/sandbox/best-practice" in (
        compared.text)
