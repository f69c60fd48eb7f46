"""Issue 22's JSON contract, from a second, independent client.

Written without reading the inspector's code, its content or the team's tests:
only the issue text (parts 1 and 2). Every case is posted with plain ``requests``
to ``POST /api/inspect`` on the served app (the ``live_server`` fixture) and the
answer is checked against the contract:

- ``kind`` is exactly the expected one of the nine values;
- every part has ``name``, ``value``, ``explain`` and ``ref`` as strings, every
  finding ``severity`` (high/medium/low/info), ``message`` and ``ref`` as strings;
- the parts named in the case are there under their wire names (parameters,
  JSON fields, auth-params, JWT header and claim names; HTTP header names are
  compared without regard to case, as HTTP does);
- ``unknown`` has no parts;
- secrets put into the input (client secrets, tokens, a Basic password and the
  Basic credentials that carry it) never appear in clear in the answer;
- the severities the issue fixes: implicit grant, no PKCE or ``plain``, a token
  or a secret in a URL, ``alg: none`` are high; no ``state``, a ``localhost`` or
  non-loopback ``http`` redirect are medium; an expired JWT's finding says
  "expired"; a sound request has no high or medium finding.

All messages below were made up for this file, in the shapes the providers named
in the case ids produce.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import quote

import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

NOW = int(time.time())
KINDS = {"authorization_request", "authorization_response", "token_request",
         "token_response", "error_response", "jwt", "discovery",
         "www_authenticate", "unknown"}
SEVERITIES = {"high", "medium", "low", "info"}
RFC_REF = re.compile(r"RFC \d{4} §\s?\d")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


# Keys of our own, made once per test run.
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
_EC_NUMBERS = EC_KEY.public_key().public_numbers()
EC_JWK = {"kty": "EC", "crv": "P-256",
          "x": b64url(_EC_NUMBERS.x.to_bytes(32, "big")),
          "y": b64url(_EC_NUMBERS.y.to_bytes(32, "big"))}


def rs256(claims: dict, **header) -> str:
    return pyjwt.encode(claims, RSA_KEY, algorithm="RS256", headers=header)


def es256(claims: dict, **header) -> str:
    return pyjwt.encode(claims, EC_KEY, algorithm="ES256", headers=header)


# ---- secrets, each distinctive and free of characters URL-encoding would change
CLIENT_SECRET = "cs7Qm2ZvR9tXw4LpN8bKd3Hy"
GOOGLE_SECRET = "GOCSPX-r4Nd0mV4lu3F0rT3st1ng9"
ENTRA_SECRET = "Xq98Q~h3Lmz7RtYwPa2VbN5cKs0Ed4UfGj1Ix6Oo"
SPOTIFY_SECRET = "e41f9a7c0b2d48d6a3f15c7e9b80d2aa"
GITHUB_SECRET = "3f8e2a91c4b7d06e5a1f9c2b8d7e4a6f0b3c5d91"
KEYCLOAK_SECRET = "kc9Tz4Wq7Rm2Xv8Ln5Bp3Hd6"
AUTH0_SECRET = "a0SeCrEt7hJk2LmN9pQr4StU6vWx8YzAbCdEfGhIjKl"
BASIC_USER, BASIC_PASSWORD = "acme-portal", "Pw9fT2kQ7zR1xV4sJ6"
BASIC_CREDENTIALS = base64.b64encode(
    f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
AUTH0_JSON_SECRET = "j50nB0dyS3cr3tQw7Er4Ty1Ui8Op2As"
CURL_REFRESH = "rt-Nw5Qe8Rt1Yu4Io7Pa0Sd3Fg6Hj9Kl"
ENV_SECRET = "envS3cr3tZx4Cv7Bn0Mq3Wf6Eg9Rh2"
ENCODED_SECRET = "Pl+us/Sl=ash9Qw7Er4Ty"
BASIC2_SECRET = "p@ss:w0rd%Qz8Lm"
ROPC_PASSWORD = "CorrectHorse7Battery9Staple"
REFRESH_OKTA = "r8TqWz3Lx6Vn1Bm4Kp7Jd0Hs9Fg2Ca5E"
ACCESS_GOOGLE = "ya29.a0AfB_byDq3Zk9Lm7Wp2Rx5Tv8Nc1Hs4Jg6Ye0Ub3Io7Ka9Mz2Pq"
REFRESH_GOOGLE = "1//0gH7kQw2Zr9Tx4Lm6Vn8Bp3Jd5Fs1Ca0EyUi7Ok2Pl9Mz4Nq6Rw"
ACCESS_ENTRA = "EwBwA8l6BAAUr7Zq4Kp9Wm2Tx5Vn8Lb3Hd6Js1Fg0Ce7Yi4Uo9Ra2"
REFRESH_ENTRA = "0.AVYAr7Zq4Kp9Wm2Tx5Vn8Lb3Hd6Js1Fg0Ce7Yi4Uo9Ra2Sk5Mj8"
ACCESS_GITHUB = "gho_Zq4Kp9Wm2Tx5Vn8Lb3Hd6Js1Fg0Ce7Yi4Uo"
ACCESS_SPOTIFY = "BQDr7Zq4Kp9Wm2Tx5Vn8Lb3Hd6Js1Fg0Ce7Yi4Uo9Ra2Sk5Mj8Nh3"
REFRESH_SPOTIFY = "AQCx5Vn8Lb3Hd6Js1Fg0Ce7Yi4Uo9Ra2Sk5Mj8Nh3Zq4Kp9Wm2T"
ACCESS_DPOP = "Kz~8qhWx3Lm2Tv5Np9Rb7Jd4Fs6Hc1Yg0E"
REFRESH_DPOP = "Q7vN2kLm9Xw4Rt6Zp1Bj8Hd3Fs5Cg0Ey"
ACCESS_FRAGMENT = "SlAV32hkKG7Zq4Kp9Wm2Tx5Vn8Lb3"
ACCESS_CC = "opaque-Mx8Nc2Vb5Lk9Jh3Gf7Ds1Ap4"
SUBJECT_TOKEN = "st-Wq3Er6Ty9Ui2Op5As8Df1Gh4Jk"
ACCESS_KEYCLOAK_REFRESH = "kcR-9Lm2Tv5Np8Rb1Jd4Fs7Hc0Yg3EzQ"

PKCE_CHALLENGE = "Qm4oT0k9nO2iW8Vb6XyZc1Ra3Ls5Dp7Fg9Hj2Kl4Mn"
PKCE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-xq"


@dataclass
class Case:
    text: str
    kind: str
    names: tuple = ()            # part names, exact (parameters, fields, claims)
    headers: tuple = ()          # HTTP header part names, any case
    secrets: tuple = ()          # never in clear in the answer
    expect: tuple = ()           # (severity, regex on message): a finding like it
    sound: bool = False          # no high or medium finding
    mentions: tuple = ()         # regexes the answer must contain (a JWT's use)
    expired: bool = False        # a finding says "expired"
    extra: dict = field(default_factory=dict)


def case(id_: str, *args, xfail: str | None = None, **kw):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(*args, **kw), id=id_, marks=marks)


# ======================================================================= requests
AUTHZ = [
    case("google-sound-oidc",
         "https://accounts.google.com/o/oauth2/v2/auth?client_id=8812345-abcd"
         "efghijkl.apps.googleusercontent.com&redirect_uri=https%3A%2F%2Fapp.ex"
         "ample.com%2Foauth2%2Fcallback&response_type=code&scope=openid%20email"
         "%20profile&state=Xk29Lq7Rt3Vw&nonce=n-0S6_WzA2Mj&code_challenge="
         + PKCE_CHALLENGE + "&code_challenge_method=S256&access_type=offline"
         "&prompt=consent",
         "authorization_request",
         names=("client_id", "redirect_uri", "response_type", "scope", "state",
                "nonce", "code_challenge", "code_challenge_method"),
         sound=True),
    case("entra-localhost-redirect",
         "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
         "/oauth2/v2.0/authorize?client_id=6731de76-14a6-49ae-97bc-6eba6914391e"
         "&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fauth"
         "%2Fcallback&response_mode=query&scope=openid%20offline_access%20https"
         "%3A%2F%2Fgraph.microsoft.com%2FUser.Read&state=58213&code_challenge="
         + PKCE_CHALLENGE + "&code_challenge_method=S256",
         "authorization_request",
         names=("client_id", "response_type", "redirect_uri", "response_mode",
                "scope", "state", "code_challenge_method"),
         expect=(("medium", r"localhost"),)),
    case("okta-implicit-token",
         "https://dev-4417213.okta.com/oauth2/default/v1/authorize?client_id="
         "0oa2hl2inow5Uqc6c357&response_type=token&scope=openid%20profile"
         "&redirect_uri=https%3A%2F%2Fspa.example.com%2Fimplicit%2Fcallback"
         "&state=st8aa91&nonce=nn3bc72",
         "authorization_request",
         names=("client_id", "response_type", "scope", "redirect_uri", "state"),
         expect=(("high", r"implicit"),)),
    case("auth0-implicit-id-token-token",
         "https://acme.us.auth0.com/authorize?response_type=id_token%20token"
         "&client_id=Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXc&redirect_uri=https://"
         "spa.acme.io/callback&scope=openid%20profile%20email&audience=https%3A"
         "%2F%2Fapi.acme.io%2F&state=r4nd0m&nonce=n0nc3",
         "authorization_request",
         names=("response_type", "client_id", "redirect_uri", "scope",
                "audience", "state", "nonce"),
         expect=(("high", r"implicit"),)),
    case("auth0-code-without-pkce",
         "https://acme.us.auth0.com/authorize?response_type=code&client_id="
         "Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXc&redirect_uri=https%3A%2F%2Fwww.acme"
         ".io%2Fcallback&scope=openid%20profile&state=af0ifjsldkj",
         "authorization_request",
         names=("response_type", "client_id", "redirect_uri", "scope", "state"),
         expect=(("high", r"PKCE|code_challenge"),)),
    case("keycloak-plain-pkce-http-redirect",
         "http://sso.acme.test:8080/realms/acme/protocol/openid-connect/auth"
         "?client_id=portal&response_type=code&redirect_uri=http%3A%2F%2Fportal"
         ".acme.test%2Fsso%2Fcallback&scope=openid&state=kc-st-77&code_challenge"
         "=" + PKCE_VERIFIER + "&code_challenge_method=plain",
         "authorization_request",
         names=("client_id", "response_type", "redirect_uri", "state",
                "code_challenge", "code_challenge_method"),
         expect=(("high", r"plain"), ("medium", r"http|redirect"))),
    case("github-no-state",
         "https://github.com/login/oauth/authorize?client_id=Iv1.8a61f9b3a7aba766"
         "&redirect_uri=https%3A%2F%2Fci.example.org%2Fgithub%2Fcallback"
         "&scope=repo%20read%3Aorg&allow_signup=false",
         "authorization_request",
         names=("client_id", "redirect_uri", "scope"),
         expect=(("medium", r"\bstate\b"),)),
    case("spotify-localhost-redirect",
         "https://accounts.spotify.com/authorize?response_type=code&client_id="
         "5fe01282e44241328a84e7c5cc169165&scope=user-read-private%20user-read-"
         "email&redirect_uri=http%3A%2F%2Flocalhost%3A8888%2Fcallback&state="
         "q9Wm2Tx5Vn8Lb3Hd&code_challenge_method=S256&code_challenge="
         + PKCE_CHALLENGE,
         "authorization_request",
         names=("response_type", "client_id", "scope", "redirect_uri", "state",
                "code_challenge_method", "code_challenge"),
         expect=(("medium", r"localhost"),)),
    case("spotify-loopback-ip-sound",
         "https://accounts.spotify.com/authorize?client_id=5fe01282e44241328a84e7"
         "c5cc169165&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8"
         "888%2Fcallback&code_challenge_method=S256&code_challenge="
         + PKCE_CHALLENGE + "&state=Lb3Hd6Js1Fg0&scope=playlist-read-private",
         "authorization_request",
         names=("client_id", "response_type", "redirect_uri", "state"),
         sound=True),
    case("apple-hybrid-form-post",
         "https://appleid.apple.com/auth/authorize?client_id=com.example.web.si"
         "gnin&redirect_uri=https%3A%2F%2Fexample.com%2Fapple%2Fcallback&respon"
         "se_type=code%20id_token&scope=name%20email&response_mode=form_post"
         "&state=ap7Kz2&nonce=ap9Qw4",
         "authorization_request",
         names=("client_id", "redirect_uri", "response_type", "scope",
                "response_mode", "state", "nonce")),
    case("challenge-without-method-defaults-to-plain",
         "https://dev-4417213.okta.com/oauth2/default/v1/authorize?client_id="
         "0oa2hl2inow5Uqc6c357&response_type=code&scope=openid&redirect_uri="
         "https%3A%2F%2Fwww.acme.io%2Fcb&state=st2&code_challenge=" + PKCE_VERIFIER,
         "authorization_request",
         names=("client_id", "response_type", "code_challenge", "state"),
         expect=(("high", r"plain|code_challenge_method|PKCE"),)),
    case("okta-http-non-loopback-redirect",
         "https://dev-4417213.okta.com/oauth2/default/v1/authorize?client_id="
         "0oa2hl2inow5Uqc6c357&response_type=code&scope=openid%20profile"
         "&redirect_uri=http%3A%2F%2Fintranet.acme.io%2Fauth%2Fcb&state=s7Qw"
         "&nonce=n7Qw&code_challenge=" + PKCE_CHALLENGE
         + "&code_challenge_method=S256",
         "authorization_request",
         names=("client_id", "redirect_uri", "state"),
         expect=(("medium", r"http|redirect|TLS"),)),
    case("ipv6-loopback-native-sound",
         "https://accounts.google.com/o/oauth2/v2/auth?client_id=8812345-nat"
         "ive.apps.googleusercontent.com&redirect_uri=http%3A%2F%2F%5B%3A%3A1%5D"
         "%3A51004%2Fcb&response_type=code&scope=openid&state=v6Lp&code_challenge="
         + PKCE_CHALLENGE + "&code_challenge_method=S256",
         "authorization_request",
         names=("client_id", "redirect_uri", "state"),
         sound=True),
    case("keycloak-plus-separated-scope-sound",
         "https://sso.acme.test/realms/acme/protocol/openid-connect/auth?client_id"
         "=portal&redirect_uri=https%3A%2F%2Fportal.acme.io%2Fsso%2Fcallback&state"
         "=5f1e2d&response_mode=fragment&response_type=code&scope=openid+profile+"
         "email&nonce=9c8b7a&code_challenge=" + PKCE_CHALLENGE
         + "&code_challenge_method=S256",
         "authorization_request",
         names=("client_id", "redirect_uri", "state", "response_mode", "scope"),
         sound=True),
    case("client-secret-in-authorization-url",
         "https://login.partner-idp.example/oauth2/authorize?response_type=code"
         "&client_id=partner-web&client_secret=" + CLIENT_SECRET + "&redirect_"
         "uri=https%3A%2F%2Fpartner.example.net%2Fcb&state=Zx81Qw&code_challenge"
         "=" + PKCE_CHALLENGE + "&code_challenge_method=S256",
         "authorization_request",
         names=("response_type", "client_id", "client_secret", "redirect_uri"),
         secrets=(CLIENT_SECRET,),
         expect=(("high", r"secret"),)),
    case("par-request-uri",
         "https://as.example.com/authorize?client_id=fapi-client-42&request_uri"
         "=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Abwc4JK-ESC0w8acc191e-Y1LTC2",
         "authorization_request",
         names=("client_id", "request_uri")),
]

CALLBACKS = [
    case("google-code-callback",
         "https://app.example.com/oauth2/callback?state=Xk29Lq7Rt3Vw&code=4%2F0"
         "AeaYSHBw7Zq4Kp9Wm2Tx5Vn8Lb3Hd6Js1Fg0Ce7&scope=email%20profile%20openid"
         "%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&authuser=0"
         "&prompt=consent",
         "authorization_response", names=("state", "code", "scope")),
    case("entra-code-session-state",
         "https://contoso.example.com/signin-oidc?code=0.AVYAr7Zq4Kp9Wm2Tx5Vn8L"
         "b3Hd6&state=OpenIdConnect.AuthenticationProperties%3Dx7y8z9&session_"
         "state=b1c2d3e4-5f60-7182-93a4-b5c6d7e8f901",
         "authorization_response", names=("code", "state", "session_state")),
    case("error-access-denied",
         "https://www.acme.io/callback?error=access_denied&error_description="
         "The%20user%20declined%20the%20consent%20screen&state=af0ifjsldkj",
         "authorization_response",
         names=("error", "error_description", "state")),
    case("spotify-error-loopback",
         "http://127.0.0.1:8888/callback?error=access_denied&state=q9Wm2Tx5Vn8Lb3Hd",
         "authorization_response", names=("error", "state")),
    case("implicit-fragment-access-token",
         "https://spa.example.com/implicit/callback#access_token=" + ACCESS_FRAGMENT
         + "&token_type=Bearer&expires_in=3600&scope=openid%20profile&state=st8aa91",
         "authorization_response",
         names=("access_token", "token_type", "expires_in", "state"),
         secrets=(ACCESS_FRAGMENT,),
         expect=(("high", r"token"),)),
    case("iss-parameter-rfc9207",
         "https://client.example.org/cb?code=Spl9Qw7eZQQYbYS6WxSbIA&state=Zx81Qw"
         "&iss=https%3A%2F%2Fas.example.com",
         "authorization_response", names=("code", "state", "iss")),
    case("code-in-fragment-response-mode",
         "https://spa.acme.io/callback#code=Ac9Kp2Wm5Tx8&state=fr4gSt",
         "authorization_response", names=("code", "state")),
    case("access-token-in-query",
         "https://intranet.acme.io/sso/return?access_token=" + ACCESS_FRAGMENT
         + "q&token_type=bearer&state=qs7",
         "authorization_response",
         names=("access_token", "state"),
         secrets=(ACCESS_FRAGMENT + "q",),
         expect=(("high", r"token"),)),
    case("native-custom-scheme",
         "com.example.app:/oauth2redirect?code=Ac7Rt2Lm9Xw4&state=nat1v3St4t3",
         "authorization_response", names=("code", "state")),
    case("okta-fragment-error",
         "https://spa.example.com/login/callback#error=login_required&error_descr"
         "iption=The+client+specified+not+to+prompt%2C+but+the+user+is+not+logged"
         "+in.&state=Fq2Wz",
         "authorization_response",
         names=("error", "error_description", "state")),
]

# ================================================================ token requests
TOKEN_REQUESTS = [
    case("raw-http-google-code-exchange",
         "POST /token HTTP/1.1\n"
         "Host: oauth2.googleapis.com\n"
         "Content-Type: application/x-www-form-urlencoded\n"
         "\n"
         "code=4%2F0AeaYSHBw7Zq4Kp9&client_id=8812345-abcdefghijkl.apps.google"
         "usercontent.com&client_secret=" + GOOGLE_SECRET + "&redirect_uri="
         "https%3A%2F%2Fapp.example.com%2Foauth2%2Fcallback&grant_type=author"
         "ization_code&code_verifier=" + PKCE_VERIFIER,
         "token_request",
         names=("code", "client_id", "client_secret", "redirect_uri",
                "grant_type", "code_verifier"),
         headers=("Content-Type",),
         secrets=(GOOGLE_SECRET,)),
    case("raw-http-lowercase-basic-refresh-okta",
         "POST /oauth2/default/v1/token HTTP/1.1\r\n"
         "host: dev-4417213.okta.com\r\n"
         "accept: application/json\r\n"
         "authorization: Basic " + BASIC_CREDENTIALS + "\r\n"
         "content-type: application/x-www-form-urlencoded\r\n"
         "\r\n"
         "grant_type=refresh_token&redirect_uri=https%3A%2F%2Fwww.acme.io%2Fcb"
         "&scope=offline_access%20openid&refresh_token=" + REFRESH_OKTA,
         "token_request",
         names=("grant_type", "scope", "refresh_token"),
         headers=("Authorization",),
         secrets=(BASIC_PASSWORD, BASIC_CREDENTIALS, REFRESH_OKTA)),
    case("raw-http-headers-reordered-client-credentials",
         "POST /oauth/token HTTP/1.1\n"
         "Content-Length: 143\n"
         "CONTENT-TYPE: application/x-www-form-urlencoded; charset=UTF-8\n"
         "Host: acme.us.auth0.com\n"
         "User-Agent: node-fetch/3.3\n"
         "\n"
         "grant_type=client_credentials&client_id=Q1w2E3r4T5y6U7i8O9p0AsDfGhJk"
         "LzXc&client_secret=" + AUTH0_SECRET
         + "&audience=https%3A%2F%2Fapi.acme.io%2F",
         "token_request",
         names=("grant_type", "client_id", "client_secret", "audience"),
         headers=("Content-Type",),
         secrets=(AUTH0_SECRET,)),
    case("curl-entra-data-urlencode-continuations",
         "curl --request POST \\\n"
         "  --url 'https://login.microsoftonline.com/contoso.onmicrosoft.com"
         "/oauth2/v2.0/token' \\\n"
         "  --header 'Content-Type: application/x-www-form-urlencoded' \\\n"
         "  --data-urlencode 'client_id=6731de76-14a6-49ae-97bc-6eba6914391e' \\\n"
         "  --data-urlencode 'scope=https://graph.microsoft.com/.default' \\\n"
         "  --data-urlencode 'client_secret=" + ENTRA_SECRET + "' \\\n"
         "  --data-urlencode 'grant_type=client_credentials'",
         "token_request",
         names=("client_id", "scope", "client_secret", "grant_type"),
         secrets=(ENTRA_SECRET,)),
    case("curl-spotify-d-repeated-user",
         "curl -X POST https://accounts.spotify.com/api/token "
         "-d grant_type=authorization_code "
         "-d code=AQDx7Lm2Tv5Np8Rb1Jd4Fs7Hc0Yg3Ez "
         "-d redirect_uri=http%3A%2F%2F127.0.0.1%3A8888%2Fcallback "
         "-H 'Content-Type: application/x-www-form-urlencoded' "
         "--user '5fe01282e44241328a84e7c5cc169165:" + SPOTIFY_SECRET + "'",
         "token_request",
         names=("grant_type", "code", "redirect_uri"),
         secrets=(SPOTIFY_SECRET,)),
    case("curl-keycloak-u-single-data",
         "curl -s -u 'portal-backend:" + KEYCLOAK_SECRET + "' -d 'grant_type="
         "client_credentials&scope=orders%3Aread' "
         "https://sso.acme.test/realms/acme/protocol/openid-connect/token",
         "token_request",
         names=("grant_type", "scope"),
         secrets=(KEYCLOAK_SECRET,)),
    case("curl-github-secret-in-query",
         "curl -X POST -H \"Accept: application/json\" \"https://github.com/login"
         "/oauth/access_token?client_id=Iv1.8a61f9b3a7aba766&client_secret="
         + GITHUB_SECRET + "&code=5b1c9e2a7f3d4b8c6e0a&redirect_uri=https%3A%2F"
         "%2Fci.example.org%2Fgithub%2Fcallback\"",
         "token_request",
         names=("client_id", "client_secret", "code"),
         secrets=(GITHUB_SECRET,),
         expect=(("high", r"secret"),)),
    case("curl-device-code-grant",
         "curl -d \"client_id=8812345-abcdefghijkl.apps.googleusercontent.com\" "
         "-d \"client_secret=" + GOOGLE_SECRET + "\" "
         "-d \"device_code=AH-1Ng2Wx5Lm8Tv1Np4Rb7Jd0Fs3Hc6Yg9Ez\" "
         "-d \"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code\" "
         "-H \"Content-Type: application/x-www-form-urlencoded\" "
         "https://oauth2.googleapis.com/token",
         "token_request",
         names=("client_id", "client_secret", "device_code", "grant_type"),
         secrets=(GOOGLE_SECRET,)),
    case("raw-http-private-key-jwt-sound",
         "POST /oauth2/v1/token HTTP/1.1\n"
         "Host: as.example.com\n"
         "Content-Type: application/x-www-form-urlencoded\n"
         "Accept: application/json\n"
         "\n"
         "grant_type=authorization_code&code=Spl9Qw7eZQQYbYS6WxSbIA&redirect_uri="
         "https%3A%2F%2Fclient.example.org%2Fcb&code_verifier=" + PKCE_VERIFIER
         + "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion"
         "-type%3Ajwt-bearer&client_assertion=" + rs256(
             {"iss": "fapi-client-42", "sub": "fapi-client-42",
              "aud": "https://as.example.com/oauth2/v1/token",
              "jti": "ca-0f1e2d3c", "iat": NOW, "exp": NOW + 60},
             kid="client-key-1", typ=None),
         "token_request",
         names=("grant_type", "code", "redirect_uri", "code_verifier",
                "client_assertion_type", "client_assertion"),
         sound=True),
    case("raw-http-dpop-header",
         "POST /token HTTP/1.1\n"
         "Host: server.example.com\n"
         "Content-Type: application/x-www-form-urlencoded\n"
         "DPoP: " + es256({"jti": "dp-7c1a", "htm": "POST",
                           "htu": "https://server.example.com/token", "iat": NOW},
                          typ="dpop+jwt", jwk=EC_JWK) + "\n"
         "\n"
         "grant_type=authorization_code&client_id=s6BhdRkqt3&code=SplxDpop9Qw"
         "&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&code_verifier="
         + PKCE_VERIFIER,
         "token_request",
         names=("grant_type", "client_id", "code", "redirect_uri", "code_verifier"),
         headers=("DPoP",)),
    case("raw-http-token-exchange",
         "POST /as/token.oauth2 HTTP/1.1\n"
         "Host: as.example.com\n"
         "Authorization: Basic " + BASIC_CREDENTIALS + "\n"
         "Content-Type: application/x-www-form-urlencoded\n"
         "\n"
         "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
         "&resource=https%3A%2F%2Fbackend.example.com%2Fapi&subject_token="
         + SUBJECT_TOKEN + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3A"
         "token-type%3Aaccess_token",
         "token_request",
         names=("grant_type", "resource", "subject_token", "subject_token_type"),
         headers=("Authorization",),
         secrets=(BASIC_PASSWORD, BASIC_CREDENTIALS, SUBJECT_TOKEN)),
    case("raw-http-auth0-json-body",
         "POST /oauth/token HTTP/1.1\n"
         "Host: acme.us.auth0.com\n"
         "Content-Type: application/json\n"
         "\n"
         + json.dumps({"grant_type": "client_credentials",
                       "client_id": "Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXc",
                       "client_secret": AUTH0_JSON_SECRET,
                       "audience": "https://api.acme.io/"}),
         "token_request",
         names=("grant_type", "client_id", "client_secret", "audience"),
         secrets=(AUTH0_JSON_SECRET,)),
    case("raw-http2-refresh",
         "POST /oauth2/v2.0/token HTTP/2\n"
         "host: login.microsoftonline.com\n"
         "content-type: application/x-www-form-urlencoded\n"
         "\n"
         "client_id=6731de76-14a6-49ae-97bc-6eba6914391e&scope=openid%20offline_"
         "access&refresh_token=" + REFRESH_ENTRA + "x&grant_type=refresh_token"
         "&client_secret=" + ENTRA_SECRET.replace("~", "_") + "Z",
         "token_request",
         names=("client_id", "scope", "refresh_token", "grant_type",
                "client_secret"),
         secrets=(REFRESH_ENTRA + "x", ENTRA_SECRET.replace("~", "_") + "Z")),
    case("curl-xpost-explicit-basic-header-url-last",
         "curl -XPOST -H\"Authorization: Basic " + BASIC_CREDENTIALS + "\" "
         "--data \"grant_type=refresh_token&refresh_token=" + CURL_REFRESH + "\" "
         "--header 'Accept: application/json' "
         "https://dev-4417213.okta.com/oauth2/default/v1/token",
         "token_request",
         names=("grant_type", "refresh_token"),
         secrets=(BASIC_PASSWORD, BASIC_CREDENTIALS, CURL_REFRESH)),
    case("raw-http-secret-needing-percent-encoding",
         "POST /token HTTP/1.1\nHost: as.example.com\n"
         "Content-Type: application/x-www-form-urlencoded\n\n"
         "grant_type=client_credentials&client_id=svc-7&client_secret="
         + quote(ENCODED_SECRET, safe="") + "&scope=reports.read",
         "token_request",
         names=("grant_type", "client_id", "client_secret", "scope"),
         secrets=(ENCODED_SECRET, quote(ENCODED_SECRET, safe=""))),
    case("raw-http-basic-with-form-encoded-credentials",
         "POST /token HTTP/1.1\nHost: as.example.com\nAuthorization: Basic "
         + base64.b64encode(("svc%3A8:" + quote(BASIC2_SECRET, safe=""))
                            .encode()).decode()
         + "\nContent-Type: application/x-www-form-urlencoded\n\n"
         "grant_type=client_credentials",
         "token_request",
         names=("grant_type",), headers=("Authorization",),
         secrets=(BASIC2_SECRET, quote(BASIC2_SECRET, safe=""),
                  base64.b64encode(("svc%3A8:" + quote(BASIC2_SECRET, safe=""))
                                   .encode()).decode())),
    case("curl-password-grant-data-raw",
         "curl --location 'https://sso.acme.test/realms/acme/protocol/openid-"
         "connect/token' \\\n"
         "--header 'Content-Type: application/x-www-form-urlencoded' \\\n"
         "--data-raw 'grant_type=password&client_id=cli&username=alice&password="
         + ROPC_PASSWORD + "'",
         "token_request",
         names=("grant_type", "client_id", "username", "password"),
         secrets=(ROPC_PASSWORD,)),
]

# =============================================================== token responses
ID_TOKEN_GOOGLE = rs256(
    {"iss": "https://accounts.google.com", "azp": "8812345-abcdefghijkl.apps."
     "googleusercontent.com", "aud": "8812345-abcdefghijkl.apps.googleuser"
     "content.com", "sub": "110248495921238986420", "email": "ada@example.com",
     "email_verified": True, "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
     "nonce": "n-0S6_WzA2Mj", "iat": NOW - 10, "exp": NOW + 3590},
    kid="f5ad8c2b9e1d7a3064b2c9e8d1f07a5b3c6e9d24", typ="JWT")

TOKEN_RESPONSES = [
    case("google-full",
         json.dumps({"access_token": ACCESS_GOOGLE, "expires_in": 3599,
                     "refresh_token": REFRESH_GOOGLE,
                     "scope": "openid https://www.googleapis.com/auth/userinfo."
                              "email", "token_type": "Bearer",
                     "id_token": ID_TOKEN_GOOGLE}, indent=2),
         "token_response",
         names=("access_token", "expires_in", "refresh_token", "scope",
                "token_type", "id_token"),
         secrets=(ACCESS_GOOGLE, REFRESH_GOOGLE)),
    case("entra-ext-expires-in",
         '{"token_type":"Bearer","scope":"User.Read profile openid email",'
         '"expires_in":4871,"ext_expires_in":4871,"access_token":"' + ACCESS_ENTRA
         + '","refresh_token":"' + REFRESH_ENTRA + '"}',
         "token_response",
         names=("token_type", "scope", "expires_in", "access_token",
                "refresh_token"),
         secrets=(ACCESS_ENTRA, REFRESH_ENTRA)),
    case("client-credentials-minimal",
         '{\n  "access_token": "' + ACCESS_CC + '",\n  "token_type": "Bearer",\n'
         '  "expires_in": 86400\n}',
         "token_response",
         names=("access_token", "token_type", "expires_in"),
         secrets=(ACCESS_CC,)),
    case("github-comma-scope",
         '{"access_token":"' + ACCESS_GITHUB + '","token_type":"bearer",'
         '"scope":"repo,gist"}',
         "token_response",
         names=("access_token", "token_type", "scope"),
         secrets=(ACCESS_GITHUB,)),
    case("spotify-with-refresh",
         json.dumps({"access_token": ACCESS_SPOTIFY, "token_type": "Bearer",
                     "scope": "user-read-private user-read-email",
                     "expires_in": 3600, "refresh_token": REFRESH_SPOTIFY}),
         "token_response",
         names=("access_token", "token_type", "scope", "expires_in",
                "refresh_token"),
         secrets=(ACCESS_SPOTIFY, REFRESH_SPOTIFY)),
    case("dpop-bound",
         json.dumps({"access_token": ACCESS_DPOP, "token_type": "DPoP",
                     "expires_in": 2677, "refresh_token": REFRESH_DPOP}),
         "token_response",
         names=("access_token", "token_type", "expires_in", "refresh_token"),
         secrets=(ACCESS_DPOP, REFRESH_DPOP)),
    case("entra-jwt-access-token-masked",
         json.dumps({"token_type": "Bearer", "expires_in": 3599,
                     "access_token": rs256({"aud": "00000003-0000-0000-c000-"
                                            "000000000000", "iss": "https://sts."
                                            "windows.net/72f988bf/", "exp": NOW
                                            + 3599, "scp": "User.Read"},
                                           kid="ent-1", typ="JWT")}),
         "token_response",
         names=("token_type", "expires_in", "access_token"),
         extra={"jwt_access_token_secret": True}),
    case("keycloak-vendor-fields",
         json.dumps({"access_token": ACCESS_CC + "kc", "expires_in": 300,
                     "refresh_expires_in": 1800,
                     "refresh_token": ACCESS_KEYCLOAK_REFRESH,
                     "token_type": "Bearer", "not-before-policy": 0,
                     "session_state": "3c1e4b2a-8d7f-4e6a-9b0c-1d2e3f4a5b6c",
                     "scope": "openid profile email"}, indent=4),
         "token_response",
         names=("access_token", "expires_in", "refresh_token", "token_type",
                "scope"),
         secrets=(ACCESS_CC + "kc", ACCESS_KEYCLOAK_REFRESH)),
]

# =============================================================== error responses
ERROR_RESPONSES = [
    case("invalid-grant",
         '{"error": "invalid_grant", "error_description": "Authorization code '
         'is invalid or has already been redeemed."}',
         "error_response", names=("error", "error_description")),
    case("device-authorization-pending",
         '{\n  "error": "authorization_pending",\n  "error_description": '
         '"The user has not yet finished signing in."\n}',
         "error_response", names=("error", "error_description")),
    case("device-slow-down-bare",
         '{"error":"slow_down"}',
         "error_response", names=("error",)),
    case("entra-vendor-fields",
         json.dumps({"error": "invalid_client",
                     "error_description": "AADSTS7000215: The client secret "
                     "supplied is not valid.\r\nTrace ID: 0a1b2c3d-4e5f-6071-8293"
                     "-a4b5c6d7e8f9\r\nCorrelation ID: 9f8e7d6c-5b4a-3928-1706-f5e4"
                     "d3c2b1a0\r\nTimestamp: 2026-11-30 09:14:07Z",
                     "error_codes": [7000215], "timestamp": "2026-11-30 09:14:07Z",
                     "trace_id": "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
                     "correlation_id": "9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0",
                     "error_uri": "https://login.microsoftonline.com/error?code="
                     "7000215"}),
         "error_response",
         names=("error", "error_description", "error_uri")),
    case("okta-invalid-scope",
         '{"error":"invalid_scope","error_description":"One or more scopes '
         'requested are not allowed for this client: admin.write"}',
         "error_response", names=("error", "error_description")),
    case("github-vendor-code",
         json.dumps({"error": "bad_verification_code",
                     "error_description": "That code is wrong or has expired.",
                     "error_uri": "https://docs.github.com/apps/managing-oauth-"
                     "apps/troubleshooting-oauth-app-access-token-request-errors"}),
         "error_response",
         names=("error", "error_description", "error_uri")),
    case("unsupported-grant-type",
         '{"error":"unsupported_grant_type"}',
         "error_response", names=("error",)),
]

# ========================================================================= JWTs
ALG_NONE = (b64json({"alg": "none", "typ": "JWT"}) + "." + b64json(
    {"iss": "https://idp.example.com", "sub": "user-1", "aud": "web-app",
     "iat": NOW, "exp": NOW + 600, "nonce": "abc"}) + ".")

JWTS = [
    case("google-id-token-rs256",
         ID_TOKEN_GOOGLE, "jwt",
         names=("alg", "kid", "typ", "iss", "aud", "sub", "exp", "iat", "nonce",
                "azp"),
         mentions=(r"id[ _-]?token",)),
    case("entra-id-token-expired",
         rs256({"aud": "6731de76-14a6-49ae-97bc-6eba6914391e",
                "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-"
                       "91ab-2d7cd011db47/v2.0",
                "iat": NOW - 7200, "nbf": NOW - 7200, "exp": NOW - 3600,
                "name": "Ada Lovelace", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
                "preferred_username": "ada@contoso.example",
                "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "nonce": "n1234",
                "ver": "2.0"},
               kid="nOo3ZDrODXEK1jKWhXslHR_KXEg", typ="JWT"),
         "jwt",
         names=("alg", "kid", "typ", "aud", "iss", "exp", "iat", "nbf", "sub"),
         expired=True),
    case("rfc9068-access-token-es256",
         es256({"iss": "https://as.example.com/", "sub": "5ba552d67",
                "aud": "https://rs.example.com/", "exp": NOW + 600, "iat": NOW,
                "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
                "client_id": "s6BhdRkqt3", "scope": "openid profile reademail"},
               typ="at+jwt", kid="rs-ec-2026"),
         "jwt",
         names=("alg", "typ", "kid", "iss", "sub", "aud", "exp", "iat", "jti",
                "client_id", "scope"),
         mentions=(r"access[ _-]?token",)),
    case("auth0-access-token-typ-jwt",
         rs256({"iss": "https://acme.us.auth0.com/", "sub": "auth0|64f0c1a2b3",
                "aud": ["https://api.acme.io/", "https://acme.us.auth0.com/userinfo"],
                "iat": NOW, "exp": NOW + 86400, "azp": "Q1w2E3r4T5y6U7i8O9p0AsDf",
                "scope": "openid profile read:orders"},
               typ="JWT", kid="Ma2kx9QwZr7T"),
         "jwt",
         names=("alg", "typ", "kid", "iss", "sub", "aud", "exp", "scope")),
    case("private-key-jwt-client-assertion",
         rs256({"iss": "fapi-client-42", "sub": "fapi-client-42",
                "aud": "https://as.example.com/oauth2/v1/token",
                "jti": "ca-9a8b7c6d", "iat": NOW, "exp": NOW + 60},
               kid="client-key-1", typ=None),
         "jwt",
         names=("alg", "kid", "iss", "sub", "aud", "jti", "exp"),
         mentions=(r"client[ _-]?assertion",)),
    case("dpop-proof-with-jwk",
         es256({"jti": "e1j3V_bKic8-LAEB", "htm": "GET",
                "htu": "https://resource.example.org/protected", "iat": NOW,
                "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"},
               typ="dpop+jwt", jwk=EC_JWK),
         "jwt",
         names=("typ", "alg", "jwk", "jti", "htm", "htu", "iat", "ath"),
         mentions=(r"dpop",)),
    case("alg-none-unsigned",
         ALG_NONE, "jwt",
         names=("alg", "typ", "iss", "sub", "aud", "exp"),
         expect=(("high", r"none|unsigned|signature|alg"),)),
    case("apple-id-token-with-whitespace",
         "\n  " + rs256({"iss": "https://appleid.apple.com",
                         "aud": "com.example.web.signin", "exp": NOW + 600,
                         "iat": NOW, "sub": "001234.a1b2c3d4e5f6.0987",
                         "nonce": "ap9Qw4", "c_hash": "Zq4Kp9Wm2Tx5Vn8Lb3Hd6Q",
                         "email": "x7k2@privaterelay.appleid.com",
                         "email_verified": True, "is_private_email": True,
                         "auth_time": NOW - 5, "nonce_supported": True},
                        kid="YuyXoY", typ=None) + "  \n",
         "jwt",
         names=("alg", "kid", "iss", "aud", "exp", "iat", "sub", "nonce"),
         mentions=(r"id[ _-]?token",)),
    case("ps256-access-token-application-at-jwt",
         pyjwt.encode({"iss": "https://as.example.com/", "sub": "u-77",
                       "aud": "https://rs.example.com/", "exp": NOW + 300,
                       "iat": NOW, "jti": "ps-1", "client_id": "c-77"},
                      RSA_KEY, algorithm="PS256",
                      headers={"typ": "application/at+jwt", "kid": "ps-1"}),
         "jwt",
         names=("alg", "typ", "kid", "client_id", "exp"),
         mentions=(r"access[ _-]?token",)),
    case("id-token-not-yet-valid",
         es256({"iss": "https://idp.example.com", "sub": "u-1", "aud": "web",
                "iat": NOW, "nbf": NOW + 86400, "exp": NOW + 90000,
                "nonce": "nyv"}, kid="ec-1", typ="JWT"),
         "jwt",
         names=("alg", "kid", "nbf", "exp"),
         extra={"finding": r"not[ -]yet|nbf|future|before"}),
    case("hs256-id-token-public-issuer",
         pyjwt.encode({"iss": "https://accounts.google.com", "sub": "1102484959",
                       "aud": "8812345-abcdefghijkl.apps.googleusercontent.com",
                       "iat": NOW, "exp": NOW + 600, "nonce": "hs"},
                      "a-shared-key-of-thirty-two-bytes!!", algorithm="HS256"),
         "jwt",
         names=("alg", "iss", "aud", "nonce"),
         extra={"finding": r"HS256|symmetric|shared|HMAC"}),
    case("dpop-proof-htu-with-query",
         es256({"jti": "q-1", "htm": "GET", "iat": NOW,
                "htu": "https://api.example.org/v1/items?page=2",
                "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"},
               typ="dpop+jwt", jwk=EC_JWK),
         "jwt",
         names=("typ", "jwk", "htu", "htm"),
         extra={"finding": r"htu|query"}),
    case("dpop-proof-stale-iat",
         es256({"jti": "s-1", "htm": "POST", "iat": NOW - 3600,
                "htu": "https://server.example.com/token"},
               typ="dpop+jwt", jwk=EC_JWK),
         "jwt",
         names=("typ", "jwk", "iat"),
         extra={"finding": r"iat|stale|old|age|minutes|ago"}),
    case("keycloak-access-token-expired",
         rs256({"exp": NOW - 60, "iat": NOW - 360, "jti": "7b3c2d1e",
                "iss": "https://sso.acme.test/realms/acme", "aud": "account",
                "sub": "f1e2d3c4-b5a6-9788-6950-4a3b2c1d0e9f", "typ": "Bearer",
                "azp": "portal", "realm_access": {"roles": ["user"]},
                "scope": "openid email profile"},
               kid="Kc-RS256-1", typ="JWT"),
         "jwt",
         names=("alg", "kid", "exp", "iat", "iss", "aud", "sub", "azp"),
         mentions=(r"access[ _-]?token",),
         expired=True),
]

# ==================================================================== discovery
DISCOVERY = [
    case("google-like-oidc",
         json.dumps({
             "issuer": "https://accounts.google.com",
             "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
             "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
             "token_endpoint": "https://oauth2.googleapis.com/token",
             "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
             "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
             "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
             "response_types_supported": ["code", "token", "id_token",
                                          "code token", "code id_token"],
             "subject_types_supported": ["public"],
             "id_token_signing_alg_values_supported": ["RS256"],
             "scopes_supported": ["openid", "email", "profile"],
             "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                       "client_secret_basic"],
             "claims_supported": ["aud", "email", "exp", "iat", "iss", "sub"],
             "code_challenge_methods_supported": ["plain", "S256"],
             "grant_types_supported": ["authorization_code", "refresh_token"],
         }, indent=1),
         "discovery",
         names=("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                "response_types_supported", "code_challenge_methods_supported")),
    case("rfc8414-fapi-as",
         json.dumps({
             "issuer": "https://as.example.com",
             "authorization_endpoint": "https://as.example.com/authorize",
             "token_endpoint": "https://as.example.com/token",
             "pushed_authorization_request_endpoint": "https://as.example.com/par",
             "require_pushed_authorization_requests": True,
             "response_types_supported": ["code"],
             "code_challenge_methods_supported": ["S256"],
             "dpop_signing_alg_values_supported": ["ES256", "PS256"],
             "authorization_response_iss_parameter_supported": True,
             "token_endpoint_auth_methods_supported": ["private_key_jwt",
                                                       "tls_client_auth"],
         }),
         "discovery",
         names=("issuer", "pushed_authorization_request_endpoint",
                "code_challenge_methods_supported",
                "dpop_signing_alg_values_supported",
                "authorization_response_iss_parameter_supported")),
    case("entra-tenant-placeholder",
         json.dumps({
             "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
             "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
             "response_modes_supported": ["query", "fragment", "form_post"],
             "response_types_supported": ["code", "id_token", "code id_token",
                                          "id_token token"],
             "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
             "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
             "tenant_region_scope": None,
             "cloud_instance_name": "microsoftonline.com",
             "kerberos_endpoint": "https://login.microsoftonline.com/common/kerberos",
         }),
         "discovery",
         names=("issuer", "token_endpoint", "jwks_uri", "response_modes_supported",
                "authorization_endpoint")),
    case("partial-three-fields",
         '{"issuer":"https://auth.example.net","authorization_endpoint":'
         '"https://auth.example.net/oauth/authorize","token_endpoint":'
         '"https://auth.example.net/oauth/token"}',
         "discovery",
         names=("issuer", "authorization_endpoint", "token_endpoint")),
    case("keycloak-realm-partial",
         json.dumps({
             "issuer": "https://sso.acme.test/realms/acme",
             "authorization_endpoint": "https://sso.acme.test/realms/acme/protocol/openid-connect/auth",
             "token_endpoint": "https://sso.acme.test/realms/acme/protocol/openid-connect/token",
             "introspection_endpoint": "https://sso.acme.test/realms/acme/protocol/openid-connect/token/introspect",
             "end_session_endpoint": "https://sso.acme.test/realms/acme/protocol/openid-connect/logout",
             "grant_types_supported": ["authorization_code", "implicit",
                                       "refresh_token", "password",
                                       "client_credentials"],
             "check_session_iframe": "https://sso.acme.test/realms/acme/protocol/openid-connect/login-status-iframe.html",
         }),
         "discovery",
         names=("issuer", "introspection_endpoint", "end_session_endpoint",
                "grant_types_supported")),
]

# ============================================================ WWW-Authenticate
WWW = [
    case("bearer-invalid-token",
         'WWW-Authenticate: Bearer realm="example", error="invalid_token", '
         'error_description="The access token expired"',
         "www_authenticate", names=("realm", "error", "error_description")),
    case("bearer-insufficient-scope-bare",
         'Bearer error="insufficient_scope", scope="files.read files.write", '
         'error_description="Needs the files.write scope"',
         "www_authenticate", names=("error", "scope", "error_description")),
    case("dpop-algs-nonce",
         'WWW-Authenticate: DPoP algs="ES256 PS256", error="use_dpop_nonce", '
         'error_description="Resource server requires a nonce in the DPoP proof"',
         "www_authenticate", names=("algs", "error", "error_description")),
    case("multiple-challenges",
         'WWW-Authenticate: DPoP algs="ES256", Bearer realm="orders-api"',
         "www_authenticate", names=("algs", "realm")),
    case("mcp-resource-metadata",
         'www-authenticate: Bearer resource_metadata="https://mcp.example.com/'
         '.well-known/oauth-protected-resource", scope="mcp:tools"',
         "www_authenticate", names=("resource_metadata", "scope")),
    case("bearer-no-params",
         "WWW-Authenticate: Bearer",
         "www_authenticate"),
    case("two-header-lines",
         'WWW-Authenticate: Bearer realm="api", scope="read"\n'
         'WWW-Authenticate: DPoP algs="ES256 EdDSA"',
         "www_authenticate", names=("realm", "scope", "algs")),
    case("token-form-values-lowercase-scheme",
         'bearer error=invalid_token, error_description="Token was revoked"',
         "www_authenticate", names=("error", "error_description")),
    case("entra-graph-authorization-uri",
         'WWW-Authenticate: Bearer realm="", authorization_uri="https://login.'
         'microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000'
         '-0000-c000-000000000000"',
         "www_authenticate", names=("realm", "authorization_uri", "client_id")),
]

# =================================================================== near-misses
UNKNOWN = [
    case("url-without-oauth-parameters",
         "https://www.example.com/blog/2024/10/hello-world?utm_source=newsletter"
         "&utm_medium=email&page=2",
         "unknown"),
    case("json-unrelated",
         '{"name": "Widget", "price": 9.99, "tags": ["blue", "small"], "stock": 12}',
         "unknown"),
    case("json-with-a-state-field",
         '{"city": "Sacramento", "state": "CA", "zip": "95814"}',
         "unknown"),
    case("jwt-looking-not-base64-json",
         "eyJub3QiOiJqc29u.aGVsbG8gd29ybGQ.c2lnbmF0dXJl",
         "unknown"),
    case("dotted-words",
         "hello.world.again",
         "unknown"),
    case("github-url-about-oauth",
         "https://github.com/oauthlib/oauthlib/blob/master/README.rst",
         "unknown"),
    case("plain-http-get",
         "GET /index.html HTTP/1.1\nHost: www.example.com\nAccept: text/html\n\n",
         "unknown"),
    case("curl-non-oauth-api",
         "curl -X POST https://api.example.com/v1/orders -H 'Content-Type: "
         "application/json' -d '{\"sku\": \"A1\", \"qty\": 2}'",
         "unknown"),
    case("json-array",
         "[1, 2, 3, {\"a\": true}]",
         "unknown"),
    case("base64-blob",
         "SGVsbG8sIHRoaXMgaXMganVzdCBhIGJhc2U2NCBzdHJpbmcu",
         "unknown"),
    case("dotenv-with-secret",
         "OAUTH_CLIENT_ID=portal\nOAUTH_CLIENT_SECRET=" + ENV_SECRET
         + "\nDATABASE_URL=postgres://db/app\n",
         "unknown", secrets=(ENV_SECRET,)),
    case("google-api-error-object",
         '{"error": {"code": 404, "message": "Requested entity was not found.", '
         '"status": "NOT_FOUND"}}',
         "unknown"),
    case("json-log-line",
         '{"level": "info", "msg": "cache warmed", "ts": 1733561234.5, '
         '"duration_ms": 41}',
         "unknown"),
    case("prose",
         "Please send the quarterly report to finance by Friday; the meeting "
         "moved to room 4B.",
         "unknown"),
    case("prose-about-oauth",
         "We use OAuth 2.0 with PKCE in the mobile app, and the token endpoint "
         "returns JSON with an access token and a refresh token.",
         "unknown"),
    case("large-prose-under-limit",
         "lorem ipsum dolor sit amet " * 2000,
         "unknown"),
]

ALL = AUTHZ + CALLBACKS + TOKEN_REQUESTS + TOKEN_RESPONSES + ERROR_RESPONSES + \
    JWTS + DISCOVERY + WWW + UNKNOWN


# ======================================================================= helpers
def inspect(live_server, text):
    response = requests.post(live_server("/api/inspect"), json={"input": text},
                             timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    return response


def check_shape(answer: dict) -> None:
    assert isinstance(answer, dict)
    assert answer["kind"] in KINDS
    assert isinstance(answer["parts"], list)
    assert isinstance(answer["findings"], list)
    for part in answer["parts"]:
        for key in ("name", "value", "explain", "ref"):
            assert isinstance(part.get(key), str), (key, part)
        assert part["name"], part
    for finding in answer["findings"]:
        for key in ("severity", "message", "ref"):
            assert isinstance(finding.get(key), str), (key, finding)
        assert finding["severity"] in SEVERITIES, finding
        assert finding["message"], finding


@pytest.mark.parametrize("case", ALL)
def test_inspect_contract(live_server, case: Case) -> None:
    response = inspect(live_server, case.text)
    answer = response.json()
    check_shape(answer)
    assert answer["kind"] == case.kind, answer

    names = [part["name"] for part in answer["parts"]]
    if case.kind == "unknown":
        assert answer["parts"] == []
    for name in case.names:
        assert name in names, (name, names)
    lowered = {name.lower() for name in names}
    for header in case.headers:
        assert header.lower() in lowered, (header, names)

    whole = response.text + json.dumps(answer)
    for secret in case.secrets:
        assert secret not in whole, f"secret {secret[:4]}… echoed in clear"

    findings = answer["findings"]
    for severity, pattern in case.expect:
        matching = [f for f in findings if f["severity"] == severity
                    and re.search(pattern, f["message"], re.I)]
        assert matching, (severity, pattern, findings)
        assert any(RFC_REF.search(f["ref"]) for f in matching), matching
    if case.sound:
        loud = [f for f in findings if f["severity"] in ("high", "medium")]
        assert not loud, loud
    if case.expired:
        assert any("expired" in f["message"].lower() for f in findings), findings
    for pattern in case.mentions:
        assert re.search(pattern, whole, re.I), pattern
    if "finding" in case.extra:
        assert any(re.search(case.extra["finding"], f["message"], re.I)
                   for f in findings), findings
    if case.extra.get("jwt_access_token_secret"):
        token = json.loads(case.text)["access_token"]
        assert token not in whole, "a JWT access token echoed in clear"


# ================================================================ error answers
def _json_error(response, status):
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize("body", [
    pytest.param('{"input": "https://example.com/?code=1"', id="truncated"),
    pytest.param("{'input': 'x'}", id="single-quotes"),
    pytest.param("input=hello", id="form-encoded-as-json"),
    pytest.param('{"input": "a",}', id="trailing-comma"),
    pytest.param("", id="empty-body"),
])
def test_malformed_json_is_400_json(live_server, body) -> None:
    response = requests.post(live_server("/api/inspect"), data=body,
                             headers={"Content-Type": "application/json"},
                             timeout=30)
    _json_error(response, 400)


@pytest.mark.parametrize("value", [
    pytest.param(42, id="number"),
    pytest.param(["https://example.com/?code=1"], id="list"),
    pytest.param({"text": "eyJ"}, id="object"),
    pytest.param(True, id="boolean"),
    pytest.param(None, id="null"),
])
def test_non_string_input_is_400_json(live_server, value) -> None:
    response = requests.post(live_server("/api/inspect"), json={"input": value},
                             timeout=30)
    _json_error(response, 400)


@pytest.mark.parametrize("size", [70_000, 200_000])
def test_input_over_64kb_is_413_json(live_server, size) -> None:
    text = "https://example.com/authorize?response_type=code&x=" + "A" * size
    response = requests.post(live_server("/api/inspect"), json={"input": text},
                             timeout=30)
    _json_error(response, 413)


def test_input_just_under_64kb_is_answered(live_server) -> None:
    """Under 64 KB however a KB is counted (and the JSON around it too)."""
    response = inspect(live_server, "x" * 63_900)
    assert response.json()["kind"] == "unknown"


def test_no_cookie_or_csrf_needed(live_server) -> None:
    """A fresh session, no cookies, no token: the API still answers."""
    with requests.Session() as session:
        response = session.post(live_server("/api/inspect"),
                                json={"input": '{"error":"invalid_request"}'},
                                timeout=30)
    assert response.status_code == 200
    assert response.json()["kind"] == "error_response"
