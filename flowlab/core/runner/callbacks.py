"""One callback path per provider: the mix-up defence of RFC 9700 §4.4.2.2.

A provider someone typed in could forward the browser to an honest authorization
server with the run's own query, so that the honest server's code comes back and is
sent to the typed-in token endpoint (a mix-up attack, RFC 9700 §4.4.1). ``iss``
(RFC 9207) stops that only when the honest server sends it. A distinct redirect URI per
provider stops it in every case: the honest server redirects only to a URI registered
with it, and the runner accepts an answer only at the path its run's request named.

The sandbox and Spotify keep the one documented path, ``/run/callback``. Any other
provider gets ``/run/callback/<key>``: the key is a digest of its issuer when its
endpoints came from that issuer's own metadata (RFC 8414 §3.3 binds them to it), else
of everything typed in, so a provider that claims another one's issuer still gets a
path of its own.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from flowlab.core.demo import CALLBACK_PATH
from flowlab.core.provider import Provider

KEY_LENGTH = 20  # hex digits: 80 bits, no second provider can be made to match


def for_issuer(issuer: str) -> str:
    """The callback path of a provider found by discovery (RFC 8414 §3.3)."""
    return _keyed("issuer", issuer)


def callback_path(provider: Provider) -> str:
    """The path where this provider's authorization responses must arrive."""
    if provider.kind != "discovered":
        return CALLBACK_PATH
    return provider.callback_path or _keyed(
        "typed-in", provider.issuer or "", provider.authorize_url, provider.token_url)


def arrived_where_sent(run, path: str) -> bool:
    """Whether a redirect arriving at ``path`` is at the redirect URI this run sent
    in its authorization request (RFC 9700 §4.4.2.2)."""
    sent = run.secrets.get("redirect_uri")
    expected = urlsplit(sent).path if sent else callback_path(run.provider)
    return expected == path


def _keyed(*parts: str) -> str:
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return f"{CALLBACK_PATH}/{digest[:KEY_LENGTH]}"
