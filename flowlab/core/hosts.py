"""Small checks on hosts, paths and secrets that both sides use, Flask-free."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from urllib.parse import urlsplit


@functools.lru_cache(maxsize=256)  # every step page asks of the same few hosts
def is_loopback_host(host: str | None) -> bool:
    """True for IP literals in 127.0.0.0/8 and ::1 (not the name ``localhost``)."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_next(value: str | None, default: str = "/") -> str:
    """A ``next`` value only if it is a path on this origin (RFC 9700 §4.11.1)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t"):
        return default
    parts = urlsplit(value)
    return default if parts.scheme or parts.netloc else value


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets without leaking where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())


def allows_plain_http(url: str, public_url: str | None = None) -> bool:
    """Whether ``url`` may be used: https anywhere, http only on loopback.

    The one exception is the presenter's own ``public_url`` (``PUBLIC_URL``) in
    workshop mode, a local-network teaching setup the presenter chose on purpose.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http":
        return False
    if is_loopback_host(parts.hostname):
        return True
    return bool(public_url) and urlsplit(public_url).netloc == parts.netloc
