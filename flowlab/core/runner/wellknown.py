"""Reading what a protected resource and an authorization server publish: the
challenge of a 401 (RFC 9110 §11.6.1, RFC 9728 §5.1) and the well-known URLs of
their metadata (RFC 9728 §3.1, RFC 8414 §3.1, OpenID Connect Discovery 1.0 §4),
for the MCP flow (``mcp.py``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

PRM = "/.well-known/oauth-protected-resource"  # RFC 9728 §3.1
ASM = "/.well-known/oauth-authorization-server"  # RFC 8414 §3.1
OIDC = "/.well-known/openid-configuration"  # OpenID Connect Discovery 1.0 §4
PARAM = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')


def challenge(value: str) -> list[list[str]]:
    """A ``WWW-Authenticate`` value as [name, value] pairs, the scheme first
    (RFC 9110 §11.6.1: auth-params, quoted or not)."""
    scheme, _, rest = value.strip().partition(" ")
    return [["scheme", scheme]] + [
        [name, raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw]
        for name, raw in PARAM.findall(rest)]


def origin(url: str) -> str:
    """The scheme and authority of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def well_known(suffix: str, identifier: str) -> str:
    """The metadata URL of ``identifier``: the well-known segment between the host
    and the identifier's path (RFC 8414 §3.1, RFC 9728 §3.1)."""
    return origin(identifier) + suffix + urlsplit(identifier).path.rstrip("/")


def identifier_of(url: str, suffix: str) -> str:
    """The identifier a well-known URL was made from, which the document inside
    must name exactly (RFC 9728 §3.3, RFC 8414 §3.3)."""
    return origin(url) + urlsplit(url).path.removeprefix(suffix)


def server_metadata_urls(issuer: str) -> list[str]:
    """Where an authorization server's metadata may be, in the order an MCP client
    tries them (MCP 2025-11-25, "Authorization Server Metadata Discovery"):
    RFC 8414 §3.1, then OpenID Connect discovery with the issuer's path inserted
    (RFC 8414 §5) and, for an issuer with a path, appended (Discovery §4.1)."""
    urls = [well_known(ASM, issuer), well_known(OIDC, issuer)]
    if path := urlsplit(issuer).path.rstrip("/"):
        urls.append(origin(issuer) + path + OIDC)
    return urls


def first_found(urls: list[str], get) -> tuple[dict, object, str]:
    """``get`` each URL in turn until one answers 200, every try kept on the wire:
    the record, the last response (None if the call failed) and its URL.
    ``get(url)`` returns a step record and the response, as ``mcp._send``."""
    exchanges = []
    for url in urls:
        record, answer = get(url)
        exchanges += record.get("exchanges", [])
        if answer is None or answer.status_code == 200:
            break
    return record | ({"exchanges": exchanges} if exchanges else {}), answer, url
