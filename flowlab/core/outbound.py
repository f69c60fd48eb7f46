"""Every call this server makes to a provider: bounded in time, size and address.

A provider is someone else's server, sometimes one a learner typed in. So each call
has an overall deadline (a per-read timeout lets a server trickle a byte a second
for ever), reads at most ``MAX_BYTES`` of the answer, refuses JSON nested deeper
than any real document, and, for a remote requester's own provider, connects only
to public addresses: checked after DNS resolution, and the checked address is the
one connected to, so a name cannot resolve to another address in between.
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import socket
import threading
from contextlib import contextmanager
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
DEFAULT_DEADLINE = 20
# (overall deadline in seconds, public addresses only) for calls in this context.
_limits = contextvars.ContextVar("limits", default=(DEFAULT_DEADLINE, False))


class Refused(requests.RequestException):
    """An answer (or an address) refused before use; the message says why."""


class DeadlinePassed(Refused):
    """The call's overall deadline passed before the whole answer came."""


class _NotPublic(Exception):  # not an OSError, so urllib3 lets it through
    pass


@contextmanager
def limits(deadline: float = DEFAULT_DEADLINE, public_only: bool = False):
    """Within this block each call ends after ``deadline`` seconds overall, and
    connects only to public addresses if ``public_only``."""
    token = _limits.set((deadline, public_only))
    try:
        yield
    finally:
        _limits.reset(token)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64's
# well-known prefix (RFC 6052 §2.1) and IPv4-compatible addresses (RFC 4291 §2.5.5.1).
EMBEDS_IPV4 = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::/96"))
# Local-use NAT64 (RFC 8215): the IPv4 address may sit anywhere, so never public.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def is_public(address: str) -> bool:
    """Not loopback, private, link-local, shared, reserved or multicast; for an IPv6
    address carrying an IPv4 one (mapped, NAT64, 6to4, Teredo), neither is that."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6 and ip in LOCAL_NAT64:
        return False
    return all(one.is_global and not one.is_multicast for one in (ip, *_inside(ip)))


def _inside(ip) -> tuple:
    """The IPv4 addresses an IPv6 address leads to (RFC 6052, 3056, 4380, 4291)."""
    if ip.version == 4:
        return ()
    if any(ip in network for network in EMBEDS_IPV4):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour:
        return (ip.sixtofour,)
    return ip.teredo or ()


def _guarded(connection_cls, watch_of):
    class Guarded(connection_cls):
        def _new_conn(self):
            host = self._dns_host
            if _limits.get()[1]:
                infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
                address = infos[0][4][0]
                if not all(is_public(info[4][0]) for info in infos):
                    raise _NotPublic(host)
                self._dns_host = address  # connect to the address just checked
            try:
                sock = super()._new_conn()
            finally:
                self._dns_host = host  # TLS and Host header keep the name
            watch_of().add(sock)
            return sock

    return Guarded


class _Watch:
    """Shuts down the sockets of one call when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self.lock:
            self.fired = True
            for sock in self.sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class GuardedAdapter(HTTPAdapter):
    """A transport adapter that enforces the deadline, the size cap and the
    address rule on every request sent through it."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.watch = _Watch(0)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = {}
        for scheme, pool, conn in (("http", HTTPConnectionPool, HTTPConnection),
                                   ("https", HTTPSConnectionPool, HTTPSConnection)):
            cls = _guarded(self.wrap_connection(conn), lambda: self.watch)
            pools[scheme] = type("Pool", (pool,), {"ConnectionCls": cls})
        self.poolmanager.pool_classes_by_scheme = pools

    def wrap_connection(self, cls):
        """A subclass hook: the connection class to guard."""
        return cls

    def send(self, request, stream=False, timeout=None, **kwargs):
        seconds = _limits.get()[0]
        self.watch = watch = _Watch(seconds)
        watch.timer.start()
        try:
            response = super().send(request, stream=True, timeout=timeout, **kwargs)
            response._content = self._read(response)
            if watch.fired:  # the socket was shut: what came is not the whole
                raise requests.Timeout(request=request)  # made DeadlinePassed below
        except _NotPublic as exc:
            raise Refused(f"{exc} is not a public address, and this lab fetches "
                          "only public addresses for other machines' providers.",
                          request=request) from None
        except Exception as exc:
            if watch.fired and not isinstance(exc, Refused):
                raise DeadlinePassed(f"No whole answer came within {seconds:g} "
                                     "seconds, the deadline for one call.",
                                     request=request) from None
            raise
        finally:
            watch.timer.cancel()
            self.poolmanager.clear()  # every call on a new, watched connection
        return response

    def _read(self, response) -> bytes:
        length = response.headers.get("Content-Length", "")
        too_big = Refused(f"The answer is larger than {self.max_bytes // 1048576} MB,"
                          " so the client stopped reading it.", response=None)
        if length.isdigit() and int(length) > self.max_bytes:
            response.close()
            raise too_big
        body = bytearray()
        try:
            for chunk in response.raw.stream(65536, decode_content=True):
                body += chunk
                if len(body) > self.max_bytes:
                    response.close()
                    raise too_big
        except Urllib3Error as exc:  # reset or cut off mid-body
            raise requests.ConnectionError(f"The answer broke off: {exc}",
                                           request=response.request) from None
        if _depth(bytes(body)) > MAX_DEPTH:
            raise Refused(f"The answer's JSON is nested too deeply (more than "
                          f"{MAX_DEPTH} levels), so the client did not parse it.")
        return bytes(body)


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def _depth(body: bytes) -> int:
    """The deepest nesting of brackets outside JSON strings."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b"", body)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def session(max_bytes: int = MAX_BYTES) -> requests.Session:
    """A session whose every request is guarded; it follows no redirect."""
    http = requests.Session()
    http.max_redirects = 0
    adapter = GuardedAdapter(max_bytes)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def segment(value) -> str:
    """``value`` as one path segment: ``/``, ``?``, ``#``, ``%`` and dot segments
    percent-encoded (RFC 3986 §3.3), so it cannot reach another path."""
    text = quote(str(value), safe="")
    return {".": "%2E", "..": "%2E%2E"}.get(text, text)
