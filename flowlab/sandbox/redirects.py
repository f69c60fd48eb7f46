"""Redirect URI rules: exact matching at authorize, Spotify's rules at registration.

Matching is by simple string comparison (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3). The one
exception: a loopback IP literal registered without a port matches any port
(RFC 8252 §7.3). Registration refuses ``localhost``, plain ``http`` off loopback and
fragments, as Spotify does since 2025 (RFC 9700 §2.6, RFC 6749 §3.1.2).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flowlab.core.hosts import allows_plain_http
from flowlab.core.hosts import is_loopback_host

PORT = re.compile(r"[1-9][0-9]{0,4}")
DANGEROUS_SCHEMES = {"javascript", "data", "vbscript", "file", "blob", "about"}


def _loopback_without_port(registered: str) -> str | None:
    """``scheme://host`` of a port-free loopback registration, else None."""
    parts = urlsplit(registered)
    if parts.scheme != "http" or parts.port is not None or "@" in parts.netloc:
        return None
    if not is_loopback_host(parts.hostname):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def redirect_matches(registered: tuple[str, ...], requested: str,
                     any_port: bool = True) -> bool:
    """Exact match, or (``any_port``) the same loopback URI with a port added
    (RFC 8252 §7.3)."""
    if requested in registered or not any_port:
        return requested in registered
    for uri in registered:
        origin = _loopback_without_port(uri)
        if origin is None or not requested.startswith(origin + ":"):
            continue
        rest = requested[len(origin) + 1:]
        port, tail = re.match(r"([0-9]*)(.*)", rest, re.S).groups()
        if PORT.fullmatch(port) and int(port) <= 65535 and tail == uri[len(origin):]:
            return True
    return False


def refusal(requested: str) -> str:
    """Spotify's error page text for a redirect URI that does not match."""
    parts = urlsplit(requested)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return "INVALID_CLIENT: Insecure redirect URI"
    return "INVALID_CLIENT: Invalid redirect URI"


def registration_problem(uri: str, public_url: str | None = None) -> str | None:
    """Why ``uri`` cannot be registered, in plain words, or None if it can; plain
    http off loopback only on the presenter's ``public_url`` (workshop mode)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or not re.fullmatch(r"[a-z][a-z0-9+.\-]*", scheme):
        return "Not an absolute URI: it needs a scheme such as https://."
    if "#" in uri:
        return "A redirect URI must not contain a fragment (#…) (RFC 6749 §3.1.2)."
    if any(ch.isspace() for ch in uri) or len(uri) > 2000:
        return "A redirect URI cannot contain spaces and must be under 2000 characters."
    if scheme in DANGEROUS_SCHEMES:
        return f"The {scheme}: scheme cannot receive a redirect."
    if scheme not in ("http", "https"):
        if "." not in scheme:
            return (
                "Private-use schemes must be reverse domain names, such as"
                " com.example.app:/callback (RFC 8252 §7.1)."
            )
        return None
    return _web_problem(uri, parts, public_url)


def _web_problem(uri: str, parts, public_url: str | None) -> str | None:
    """Problems of an http(s) redirect URI (Spotify's rules, RFC 9700 §2.6)."""
    if not parts.hostname or "@" in parts.netloc:
        return "The URI needs a host name and no user name or password."
    if parts.hostname == "localhost":
        return (
            "INVALID_CLIENT: Insecure redirect URI. localhost is not allowed: use the"
            " loopback IP literal http://127.0.0.1:PORT or http://[::1]:PORT."
        )
    if parts.scheme == "http" and not allows_plain_http(uri, public_url):
        return (
            "INVALID_CLIENT: Insecure redirect URI. Plain http is allowed only for"
            " loopback IP literals (127.0.0.1 or [::1]); use https."
        )
    return None
