"""An independent OAuth client: plain ``requests`` and ``cryptography``, importing
nothing from the project, working from an issuer's metadata alone.

It registers itself (RFC 7591), signs its own JWTs by hand (RFC 7515 compact
serialisation, ES256 as RFC 7518 §3.4 has it): client assertions (RFC 7523 §3) and
DPoP proofs (RFC 9449 §4.2), works out key thumbprints (RFC 7638), pushes requests
(RFC 9126), and walks the sign-in and consent pages as a browser would, by their
forms. The tests that use it check what the sandbox says on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REDIRECT = "http://127.0.0.1:8765/cb"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict:
    """A JWT's payload, unverified (the tests verify signatures elsewhere)."""
    return json.loads(unb64(token.split(".")[1]))


def header_of(token: str) -> dict:
    return json.loads(unb64(token.split(".")[0]))


class Key:
    """A P-256 key pair: its public JWK, its RFC 7638 thumbprint, and ES256."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256",
                    "x": b64(numbers.x.to_bytes(32, "big")),
                    "y": b64(numbers.y.to_bytes(32, "big"))}
        self.kid = self.thumbprint()

    def thumbprint(self) -> str:
        members = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x", "y")},
                             separators=(",", ":"), sort_keys=True)
        return b64(hashlib.sha256(members.encode()).digest())

    def sign(self, header: dict, claims: dict) -> str:
        """A compact JWS; the ECDSA signature as r ‖ s, 32 bytes each."""
        signing_input = (b64(json.dumps({"alg": "ES256", **header}).encode()) + "."
                         + b64(json.dumps(claims).encode()))
        der = self.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64(hashlib.sha256(verifier.encode()).digest())


class Client:
    """One client of one issuer, known from the issuer's RFC 8414 metadata."""

    def __init__(self, metadata: dict) -> None:
        self.meta = metadata
        self.issuer = metadata["issuer"]
        self.key = Key()  # authenticates the client (private_key_jwt)
        self.dpop_key = Key()  # binds its tokens (DPoP)
        self.client_id: str | None = None
        self.management: tuple[str, str] = ("", "")  # RFC 7592 §3 URI, token
        self.nonces: dict[str, str] = {}  # the last DPoP-Nonce per server
        self.browser = requests.Session()

    @classmethod
    def discover(cls, metadata_url: str) -> Client:
        answer = requests.get(metadata_url, timeout=10)
        assert answer.status_code == 200, answer.text
        return cls(answer.json())

    # -- registration (RFC 7591) ----------------------------------------------

    def metadata(self, **metadata) -> dict:
        """The client's metadata (RFC 7591 §2) with its current key; a field
        given as None is left out."""
        body = {"redirect_uris": [REDIRECT], "client_name": "Independent client",
                "token_endpoint_auth_method": "private_key_jwt",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "jwks": {"keys": [{**self.key.jwk, "kid": self.key.kid,
                                   "alg": "ES256", "use": "sig"}]}, **metadata}
        return {name: value for name, value in body.items() if value is not None}

    def register(self, **metadata) -> requests.Response:
        answer = requests.post(self.meta["registration_endpoint"],
                               json=self.metadata(**metadata), timeout=10)
        if answer.status_code == 201:
            body = answer.json()
            self.client_id = body["client_id"]
            self.management = (body["registration_client_uri"],
                               body["registration_access_token"])
        return answer

    def update(self, token: str | None = None, **metadata) -> requests.Response:
        """Replace the registration (RFC 7592 §2.2): every field again, with
        ``client_id``, and the registration access token as a Bearer token."""
        uri, own = self.management
        return requests.put(uri, json=self.metadata(client_id=self.client_id,
                                                    **metadata),
                            headers={"Authorization": f"Bearer {token or own}"},
                            timeout=10)

    # -- signed JWTs ----------------------------------------------------------

    def assertion(self, **changes) -> dict:
        """Form fields authenticating the client (RFC 7523 §2.2): a fresh jti,
        ``aud`` the issuer identifier."""
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.issuer,
                  "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16),
                  **changes}
        token = self.key.sign({"kid": self.key.kid, "typ": "JWT"}, claims)
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}

    def proof(self, method: str, url: str, access_token: str | None = None,
              **changes) -> str:
        """A DPoP proof (RFC 9449 §4.2) for ``method`` and ``url``, with the
        server's last nonce and, for a resource, ``ath``."""
        claims = {"jti": secrets.token_urlsafe(16), "htm": method,
                  "htu": url.split("?")[0].split("#")[0], "iat": int(time.time())}
        origin = urlsplit(url).netloc
        if origin in self.nonces:
            claims["nonce"] = self.nonces[origin]
        if access_token:
            claims["ath"] = b64(hashlib.sha256(access_token.encode()).digest())
        claims.update(changes)
        header = {"typ": "dpop+jwt", "jwk": self.dpop_key.jwk}
        return self.dpop_key.sign(header, {k: v for k, v in claims.items()
                                           if v is not None})

    def remember_nonce(self, answer: requests.Response) -> None:
        if "DPoP-Nonce" in answer.headers:
            self.nonces[urlsplit(answer.url).netloc] = answer.headers["DPoP-Nonce"]

    # -- endpoints --------------------------------------------------------------

    def post(self, endpoint: str, form: dict, dpop: bool = True,
             **proof_changes) -> requests.Response:
        """POST a form to an endpoint named in the metadata, with a fresh
        assertion and (unless ``dpop`` is off) a proof."""
        url = self.meta[endpoint]
        headers = {"DPoP": self.proof("POST", url, **proof_changes)} if dpop else {}
        answer = requests.post(url, data={**form, **self.assertion()},
                               headers=headers, timeout=10)
        self.remember_nonce(answer)
        return answer

    def learn_nonce(self) -> None:
        """A token request that can only fail, for the DPoP-Nonce a server
        hands out with its answer (RFC 9449 §8), if it uses nonces."""
        self.post("token_endpoint", {"grant_type": "refresh_token",
                                     "refresh_token": "none"})

    def post_with_nonce(self, endpoint: str, form: dict) -> list[requests.Response]:
        """The request, and again with the server's nonce if it asked for one
        (RFC 9449 §8): every answer, the last one final."""
        answers = [self.post(endpoint, form)]
        if answers[0].status_code == 400 and \
                answers[0].json().get("error") == "use_dpop_nonce":
            answers.append(self.post(endpoint, form))
        return answers

    def call(self, url: str, token: str, scheme: str = "DPoP",
             **proof_changes) -> requests.Response:
        """The API, with the token and a proof carrying ``ath``; once more with
        the resource server's nonce if it asks (RFC 9449 §9)."""
        for _ in range(2):
            headers = {"Authorization": f"{scheme} {token}"}
            if scheme == "DPoP":
                headers["DPoP"] = self.proof("GET", url, token, **proof_changes)
            answer = requests.get(url, headers=headers, timeout=10)
            self.remember_nonce(answer)
            if 'error="use_dpop_nonce"' not in answer.headers.get(
                    "WWW-Authenticate", ""):
                return answer
        return answer

    # -- the browser's part ---------------------------------------------------

    def authorize(self, params: dict, user: str = "alice") -> requests.Response:
        """GET the authorization endpoint, sign in and agree as a browser would;
        the answer is the redirect back (or whatever page stopped the walk)."""
        answer = self.browser.get(self.meta["authorization_endpoint"], params=params,
                                  allow_redirects=False, timeout=10)
        for _ in range(4):
            if answer.is_redirect and not answer.headers["Location"].startswith(
                    REDIRECT):
                answer = self.browser.get(urljoin(answer.url,
                                                  answer.headers["Location"]),
                                          allow_redirects=False, timeout=10)
            elif answer.status_code == 200 and 'name="user"' in answer.text:
                answer = self._submit(answer, {"user": user})
            elif answer.status_code == 200 and 'name="decision"' in answer.text:
                answer = self._submit(answer, {"decision": "agree"})
            else:
                break
        return answer

    def _submit(self, page: requests.Response, fields: dict) -> requests.Response:
        action, inside = FORM.search(page.text).groups()
        hidden = {k: html.unescape(v) for k, v in HIDDEN.findall(inside)}
        return self.browser.post(urljoin(page.url, html.unescape(action)),
                                 data={**hidden, **fields}, allow_redirects=False,
                                 timeout=10)


def back(answer: requests.Response) -> dict[str, str]:
    """The parameters of a redirect back to the client (query)."""
    assert answer.is_redirect, (answer.status_code, answer.text[:500])
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
