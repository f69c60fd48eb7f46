"""A lab issuer's weak registration, ``registration_fetch = true``: it fetches the
``logo_uri`` a client registers, at once and wherever it points, and puts what it
got in its answer, the server-side request forgery RFC 7591 §5 warns of (lab
"registration-abuse").

Only http addresses in 127.0.0.0/8 are ever fetched: the lab shows the weakness on
its own loopback pages, and cannot be pointed anywhere else.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import requests

from flowlab.core import outbound

DEADLINE = 2.0
SHOWN = 500  # characters of the fetched page put in the answer
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def on_loopback(uri: str) -> bool:
    """An http URL whose host is an IPv4 literal in 127.0.0.0/8."""
    try:
        parts = urlsplit(uri)
        return parts.scheme == "http" and ipaddress.ip_address(
            parts.hostname or "") in LOOPBACK
    except ValueError:
        return False


def fetched(metadata: object) -> dict:
    """``logo_uri_fetched``: what the weak server got from the registered
    ``logo_uri``, if it is on loopback; else nothing."""
    uri = metadata.get("logo_uri") if isinstance(metadata, dict) else None
    if not isinstance(uri, str) or not on_loopback(uri):
        return {}
    try:
        with outbound.limits(DEADLINE), outbound.session(4096) as http:
            text = http.get(uri, timeout=DEADLINE, allow_redirects=False).text
    except requests.RequestException as exc:
        text = f"(could not fetch it: {exc})"
    return {"logo_uri_fetched": text[:SHOWN]}
