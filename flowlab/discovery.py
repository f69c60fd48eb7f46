"""Providers found by discovery: RFC 8414 metadata or an OpenID configuration.

The URL is someone's input, so only a well-known URL is fetched (no dot segments),
through ``flowlab.outbound`` (a deadline, a size cap, public addresses for remote
requesters), redirects are not followed, and every endpoint in the answer passes the
same URL rule as typed-in ones.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote
from urllib.parse import urlsplit

import requests

from . import outbound
from .profiles import Provider
from .providers import ProviderError
from .providers import check_url
from .providers import manual

WELL_KNOWN = ("/.well-known/oauth-authorization-server",
              "/.well-known/openid-configuration")


def discover(url: str, timeout: float = 5) -> dict:
    """Fetch and check an RFC 8414 / OpenID discovery document.

    Only a well-known URL is fetched, redirects are not followed (they could lead
    anywhere), and a failure is reported without the network's details.
    """
    check_url(url, "The discovery URL")
    expected = expected_issuer(url)
    try:
        with outbound.session() as http:
            response = http.get(url, timeout=timeout, allow_redirects=False,
                                headers={"Accept": "application/json"})
        metadata = response.json()
    except requests.Timeout:
        raise ProviderError(f"The discovery URL did not answer within {timeout:g} "
                            "seconds.") from None
    except outbound.Refused as exc:
        raise ProviderError(f"The discovery document was not used: {exc}") from None
    except (requests.RequestException, ValueError, RecursionError):
        metadata = response = None
    if response is None or response.status_code != 200 or not isinstance(
            metadata, dict):
        raise ProviderError("No JSON metadata document came back from the discovery "
                            "URL (no answer, a redirect, an error status, or not "
                            "JSON). Check the address, or type the endpoints in.")
    if metadata.get("issuer") != expected:  # its value is not echoed: untrusted
        raise ProviderError(f"The document names another issuer than {expected!r}, "
                            "the one it was fetched for; RFC 8414 §3.3 says not to "
                            "use it.")
    return metadata


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
                  scope: str) -> Provider:
    """A profile from checked discovery metadata."""
    issuer = metadata["issuer"]
    provider = manual(issuer, _text(metadata, "authorization_endpoint"),
                      _text(metadata, "token_endpoint"), api_base, clients, scope)
    found = {
        "name": f"Provider at {issuer}",
        "iss_supported": metadata.get("authorization_response_iss_parameter_supported")
        is True,
        "grant_types": _names(metadata, "grant_types_supported",
                              ("authorization_code", "implicit")),
        "response_types": _names(metadata, "response_types_supported", ()),
        "pkce_methods": _names(metadata, "code_challenge_methods_supported", None),
    }
    for key, name in (("jwks_uri", "jwks_uri"), ("userinfo_endpoint", "userinfo_url")):
        if metadata.get(key) is not None:  # OpenID Connect Discovery §3
            check_url(_text(metadata, key), f"The metadata's {key}")
            found[name] = metadata[key]
    expire = metadata.get("flowlab_demo_expire_endpoint")
    if isinstance(expire, str) and expire.startswith(issuer + "/"):
        check_url(expire, "The sandbox's expire endpoint")
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
