"""Client metadata of a dynamic registration, checked (RFC 7591 §2, §3.2.2).

Every value is self-asserted (RFC 7591 §5), so only what the sandbox understands is
registered, and the rest is ignored (§2 lets a server do so): no ``logo_uri`` or
``client_uri`` to phish with. Redirect URIs are https, or plain http on a loopback IP
literal (RFC 8252 §7.3), by the registration rules of ``redirects.py``. Keys come
inline (``jwks``, public members only) or from a ``jwks_uri`` that the caller
fetches only on loopback for a local requester (``registrations.fetch_jwks``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import jwt

from flowlab.core.demo import DEVICE_GRANT
from flowlab.core.hosts import is_loopback_host
from flowlab.sandbox.redirects import registration_problem
from flowlab.sandbox.registration import MAX_NAME
from flowlab.sandbox.registration import MAX_URIS
from flowlab.sandbox.registration import AppForm
from flowlab.sandbox.registration import check_grants
from flowlab.sandbox.registration import needs_redirect

SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANTS = ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT)
ASSERTION_ALGS = ("RS256", "ES256", "PS256")  # asymmetric only (RFC 7523 §3)
ID_TOKEN_ALGS = ("RS256", "ES256")  # OIDC Registration §2; never "none"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}  # RFC 7518 §6
MAX_KEYS = 10


class RegistrationError(Exception):
    """A refused registration: its RFC 7591 §3.2.2 error code and why."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def _bad(description: str) -> RegistrationError:
    return RegistrationError("invalid_client_metadata", description)


def metadata(settings, issuer: str) -> dict:
    """The RFC 8414 §2 fields of registration and client authentication."""
    methods = list(settings.auth_methods)
    fields = {f"{name}_endpoint_auth_methods_supported": methods
              for name in ("token", "revocation", "introspection")}
    if "private_key_jwt" in methods:
        for name in ("token", "revocation", "introspection"):
            fields[f"{name}_endpoint_auth_signing_alg_values_supported"] = list(
                ASSERTION_ALGS)
    if settings.registration:
        fields["registration_endpoint"] = issuer + "/api/register"
    return fields


def _strings(body: dict, name: str, default: list[str]) -> list[str]:
    value = body.get(name, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{name} must be an array of strings (RFC 7591 §2).")
    return list(dict.fromkeys(value))


def _string(body: dict, name: str, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{name} must be a string (RFC 7591 §2).")
    return value


def redirect_uris(body: dict, required: bool) -> list[str]:
    """https, or http on a loopback IP literal; nothing that could run script
    or carry a fragment (RFC 7591 §2, RFC 6749 §3.1.2, RFC 9700 §2.1)."""
    value = body.get("redirect_uris", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistrationError("invalid_redirect_uri",
                                "redirect_uris must be an array of strings.")
    if required and not value:
        raise RegistrationError("invalid_redirect_uri", "The authorization code "
                                "grant needs at least one redirect URI.")
    if len(value) > MAX_URIS:
        raise RegistrationError("invalid_redirect_uri",
                                f"At most {MAX_URIS} redirect URIs.")
    for uri in value:
        problem = registration_problem(uri)
        if problem is None and urlsplit(uri).scheme.lower() not in ("http", "https"):
            problem = "Only https, or http on a loopback IP literal, is registered."
        if problem:
            raise RegistrationError("invalid_redirect_uri", f"{uri[:200]}: {problem}")
    return list(dict.fromkeys(value))


def public_jwks(value) -> dict:
    """A JWK Set of public signing keys, each one PyJWT can use (RFC 7517 §5)."""
    keys = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(keys, list) or not 0 < len(keys) <= MAX_KEYS:
        raise _bad(f"jwks must be a JWK Set: {{\"keys\": [...]}}, 1 to {MAX_KEYS} "
                   "keys (RFC 7517 §5).")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
            raise _bad("Each key must be an EC or RSA public key (RFC 7518 §6).")
        if PRIVATE_MEMBERS & key.keys():
            raise _bad("jwks holds a private key: register public keys only, and "
                       "keep the private key to yourself (RFC 7517 §5).")
        try:
            parsed = jwt.PyJWK(key).key
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise _bad("A key of jwks cannot be read (RFC 7517 §4).") from None
        if key["kty"] == "RSA" and parsed.key_size < 2048:
            raise _bad("An RSA key must have 2048 bits at least (RFC 7518 §3.3).")
    return {"keys": keys}


def loopback_jwks_uri(uri: str, local: bool) -> str:
    """A ``jwks_uri`` the sandbox may fetch: a loopback IP literal, asked for by a
    requester on this machine; never for a remote one (RFC 7591 §5: the server
    would fetch a URL of the registrant's choosing)."""
    parts = urlsplit(uri)
    if not local:
        raise _bad("The sandbox fetches a jwks_uri only for a client on this "
                   "machine: send the keys inline as jwks.")
    if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname):
        raise _bad("jwks_uri must be on a loopback IP literal (127.0.0.1 or [::1]): "
                   "the sandbox fetches nothing else. Or send jwks inline.")
    return uri


def _grants(body: dict, method: str) -> tuple[list[str], list[str]]:
    """Grant and response types, consistent with each other (RFC 7591 §2.1)."""
    grants = _strings(body, "grant_types", ["authorization_code"])
    form = AppForm(kind="public" if method == "none" else "confidential",
                   grants=grants)
    check_grants(form, GRANTS)
    if form.errors:
        raise _bad(" ".join(form.errors["grants"]))
    codes = ["code"] if "authorization_code" in grants else []
    responses = _strings(body, "response_types", codes)
    if responses != codes:
        raise _bad('response_types must be ["code"] with the authorization_code '
                   "grant and empty without it (RFC 7591 §2.1).")
    return grants, responses


def check(body, settings, local: bool, fetch) -> dict:
    """The metadata to register, or a :class:`RegistrationError`. ``fetch(uri)``
    gets a loopback ``jwks_uri``'s document."""
    if not isinstance(body, dict):
        raise _bad("Send the client metadata as a JSON object (RFC 7591 §3.1).")
    method = _string(body, "token_endpoint_auth_method", "client_secret_basic")
    if method not in settings.auth_methods:
        raise _bad("token_endpoint_auth_method must be one of: "
                   + ", ".join(settings.auth_methods) + " (RFC 7591 §2).")
    grants, responses = _grants(body, method)
    found = {"redirect_uris": redirect_uris(body, needs_redirect(grants)),
             "token_endpoint_auth_method": method, "grant_types": grants,
             "response_types": responses}
    name = (_string(body, "client_name") or "Registered client").strip()
    found["client_name"] = name[:MAX_NAME]
    scope = _string(body, "scope")
    if scope is not None:
        unknown = [s for s in scope.split() if s not in settings.scopes]
        if unknown:
            raise _bad("Unknown scope: " + " ".join(unknown)[:200])
        found["scope"] = " ".join(dict.fromkeys(scope.split()))
    alg = _string(body, "id_token_signed_response_alg")
    if alg is not None and alg not in ID_TOKEN_ALGS:
        raise _bad("id_token_signed_response_alg must be RS256 or ES256; none is "
                   "never offered (OIDC Core §2).")
    if alg:
        found["id_token_signed_response_alg"] = alg
    found.update(_dpop_bound(body, settings))
    _keys(body, found, local, fetch)
    return found


def _dpop_bound(body: dict, settings) -> dict:
    """``dpop_bound_access_tokens``, a boolean (RFC 9449 §5.2), where DPoP is
    offered (``dpopclients`` holds a client to it); {} when not sent."""
    value = body.get("dpop_bound_access_tokens")
    if value is None or settings.dpop == "off":
        return {}
    if not isinstance(value, bool):
        raise _bad("dpop_bound_access_tokens must be true or false (RFC 9449 §5.2).")
    return {"dpop_bound_access_tokens": value}


def _keys(body: dict, found: dict, local: bool, fetch) -> None:
    """``jwks`` or ``jwks_uri``, not both (RFC 7591 §2); one is needed for
    private_key_jwt (RFC 7523 §2.2)."""
    if "jwks" in body and "jwks_uri" in body:
        raise _bad("Send jwks or jwks_uri, not both (RFC 7591 §2).")
    if "jwks" in body:
        found["jwks"] = public_jwks(body["jwks"])
    elif "jwks_uri" in body:
        uri = loopback_jwks_uri(_string(body, "jwks_uri") or "", local)
        found["jwks_uri"] = uri
        found["fetched_jwks"] = public_jwks(fetch(uri))
    elif found["token_endpoint_auth_method"] == "private_key_jwt":
        raise _bad("private_key_jwt needs the client's public keys: jwks or "
                   "jwks_uri (RFC 7523 §2.2).")
