"""Where a learner's own request may go: only under a base URL the lab chose.

The API console (and any "edit and send" control) lets a learner type a path; the
server then sends the request. So the path is joined to the base and the result
must keep the base's scheme, host, port and path prefix, at a segment boundary.
Dot segments are refused rather than resolved (RFC 3986 §5.2.4): a path that means
one place to this check and another to the server behind it is never sent.
"""

from __future__ import annotations

from urllib.parse import unquote
from urllib.parse import urlsplit


class Outside(ValueError):
    """A destination outside the allowed base."""


def under(url: str, base: str) -> bool:
    """Whether ``url`` has ``base``'s scheme, host and port, and its path starts
    with ``base``'s path at a segment boundary."""
    target, allowed = urlsplit(url), urlsplit(base)
    try:
        same_place = (target.scheme.lower() == allowed.scheme.lower()
                      and target.hostname == allowed.hostname
                      and target.port == allowed.port)
    except ValueError:  # a port that is not a number
        return False
    prefix = allowed.path.rstrip("/")
    inside = target.path == prefix or target.path.startswith(prefix + "/")
    return (same_place and inside and not target.username
            and not target.password and not target.fragment)


def join(root: str, path: str, base: str) -> str:
    """``root`` + ``path`` if the result is under ``base``, else ``Outside``.

    ``path`` must start with one ``/``, hold no backslash, no ``?`` or ``#`` (the
    query travels on its own), and no ``.`` or ``..`` segment, encoded or not."""
    if not path.startswith("/") or path.startswith("//") or any(
            c in path for c in "\\?#") or any(ord(c) < 33 for c in path):
        raise Outside(path)
    segments = unquote(path).replace("\\", "/").split("/")
    if any(segment in (".", "..") for segment in segments):
        raise Outside(path)
    url = root.rstrip("/") + path
    if not under(url, base):
        raise Outside(path)
    return url
