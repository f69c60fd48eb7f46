"""Providers found by discovery: RFC 8414 metadata or an OpenID configuration.

The URL is someone's input, so only a well-known URL is fetched (no dot segments),
through ``flowlab.core.outbound`` (a deadline, a size cap, public addresses for remote
requesters), redirects are not followed, and every endpoint in the answer passes the
same URL rule as typed-in ones.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace
from urllib.parse import unquote
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError

from flowlab.core import outbound
from flowlab.core.provider import Provider
from flowlab.core.providers import LabHosts
from flowlab.core.providers import ProviderError
from flowlab.core.providers import check_url
from flowlab.core.providers import manual

WELL_KNOWN = ("/.well-known/oauth-authorization-server",
              "/.well-known/openid-configuration")


class DiscoveryFailed(ProviderError):
    """A discovery URL that gave no usable metadata; ``kind`` names why (a key of
    the ``[discovery]`` texts), so a caller trying several URLs knows whether to go
    on (the report card, ``flowlab.core.inspect.report``)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def discover(url: str, texts: dict, timeout: float = 5, *,
             hosts: LabHosts) -> dict:
    """Fetch and check an RFC 8414 / OpenID discovery document.

    Only a well-known URL is fetched and redirects are not followed (they could
    lead anywhere). A failure names its kind (content/providers.toml, [discovery])
    with the URL tried, never the server's own words.
    """
    check_url(url, "The discovery URL", hosts)
    expected = expected_issuer(url)
    try:
        with outbound.session() as http:
            response = http.get(url, timeout=timeout, allow_redirects=False,
                                headers={"Accept": "application/json"})
    except outbound.Refused as exc:
        raise ProviderError(f"The discovery document was not used: {exc}") from None
    except requests.TooManyRedirects as exc:  # the session follows none
        raise _failed(texts, "redirect", url, status=exc.response.status_code) from None
    except requests.RequestException as exc:
        kind, detail = _failure(exc)
        raise _failed(texts, kind, url, timeout=f"{timeout:g}", detail=detail) from None
    if response.is_redirect:
        raise _failed(texts, "redirect", url, status=response.status_code)
    if response.status_code != 200:
        kind = "server_error" if response.status_code >= 500 else "status"
        raise _failed(texts, kind, url, status=response.status_code)
    try:
        metadata = response.json()
    except (ValueError, RecursionError):
        metadata = None
    if not isinstance(metadata, dict):
        raise _failed(texts, "not_json", url, content_type=response.headers.get(
            "Content-Type", "none")[:100])
    if metadata.get("issuer") != expected:  # its value is not echoed: untrusted
        raise _failed(texts, "issuer", url, expected=expected)
    return metadata


def _failed(texts: dict, kind: str, url: str, **details) -> DiscoveryFailed:
    """The error for one kind of failure, in the words of ``texts`` (the
    ``[discovery]`` table of content/providers.toml)."""
    parts = urlsplit(url)
    text = texts[kind]
    return DiscoveryFailed(text.format(url=url, host=parts.hostname,
                                       origin=f"{parts.scheme}://{parts.netloc}",
                                       **details), kind)


def _failure(exc: BaseException) -> tuple[str, str]:
    """The kind of a failed call (dns, refused, timeout, tls or unreachable) and,
    for TLS, OpenSSL's short reason."""
    if isinstance(exc, requests.Timeout):
        return "timeout", ""
    for cause in _causes(exc):
        if isinstance(cause, (socket.gaierror, NameResolutionError)):
            return "dns", ""
        if isinstance(cause, ConnectionRefusedError):
            return "refused", ""
        if isinstance(cause, TimeoutError):
            return "timeout", ""
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", "") or cause.reason or "TLS"
            return "tls", str(reason).replace("_", " ").lower()
    return "unreachable", ""


def _causes(exc: BaseException):
    """``exc`` and what it wraps: arguments, urllib3's ``reason``, its causes."""
    seen, todo = set(), [exc]
    while todo:
        one = todo.pop()
        if not isinstance(one, BaseException) or id(one) in seen:
            continue
        seen.add(id(one))
        yield one
        todo += [*one.args, getattr(one, "reason", None), one.__cause__,
                 one.__context__]


def expected_issuer(url: str) -> str:
    """The issuer a well-known URL was built from (RFC 8414 §3.1, OpenID §4)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if any(unquote(part) in (".", "..") for part in parts.path.split("/")):
        raise ProviderError("A discovery URL has no “.” or “..” segments (they would "
                            "lead away from the well-known path).")
    for suffix in WELL_KNOWN:
        if parts.path.endswith(suffix):  # {issuer}/.well-known/...
            return origin + parts.path[: -len(suffix)]
        if parts.path.startswith(suffix):  # {origin}/.well-known/...{path}
            return origin + parts.path[len(suffix):]
    raise ProviderError("A discovery URL ends in one of: " + ", ".join(WELL_KNOWN))


def from_metadata(metadata: dict, clients: tuple[str, str], api_base: str,
                  scope: str, *, hosts: LabHosts) -> Provider:
    """A profile from checked discovery metadata; no URL on the lab's ``hosts``."""
    issuer = metadata["issuer"]
    provider = manual(issuer, _text(metadata, "authorization_endpoint"),
                      _text(metadata, "token_endpoint"), api_base, clients, scope,
                      hosts=hosts)
    found = {
        "name": f"Provider at {issuer}",
        "iss_supported": metadata.get("authorization_response_iss_parameter_supported")
        is True,
        "grant_types": _names(metadata, "grant_types_supported",
                              ("authorization_code", "implicit")),
        "response_types": _names(metadata, "response_types_supported", ()),
        "pkce_methods": _names(metadata, "code_challenge_methods_supported", None),
        # OpenID Connect Discovery §3: an OpenID provider's required fields.
        "openid": isinstance(metadata.get("jwks_uri"), str) and bool(
            metadata.get("id_token_signing_alg_values_supported")),
    }
    for key, name in (("jwks_uri", "jwks_uri"), ("userinfo_endpoint", "userinfo_url"),
                      ("introspection_endpoint", "introspection_url"),  # RFC 7662
                      ("revocation_endpoint", "revocation_url")):  # RFC 7009
        if metadata.get(key) is not None:  # OpenID Connect Discovery §3
            check_url(_text(metadata, key), f"The metadata's {key}", hosts)
            found[name] = metadata[key]
    expire = metadata.get("flowlab_demo_expire_endpoint")
    if isinstance(expire, str) and expire.startswith(issuer + "/"):
        check_url(expire, "The sandbox's expire endpoint", hosts)
        found.update(expire_url=expire, grant_revocation=True)
    return replace(provider, **found)


def _text(metadata: dict, key: str) -> str:
    value = metadata.get(key, "")
    if not isinstance(value, str):
        raise ProviderError(f"The metadata's {key} is not a URL.")
    return value


def _names(metadata: dict, key: str, default):
    """A ``*_supported`` list of strings (RFC 8414 §2), or ``default`` if absent."""
    value = metadata.get(key, default)
    if value is default:
        return value
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ProviderError(f"The metadata's {key} is not a list of names.")
    return tuple(value)
