"""waitress servers whose idle sweep never throws away a request that has arrived.

waitress closes a kept-alive connection once it has been idle for
``channel_timeout`` seconds; a sweep in its event loop (every ``cleanup_interval``)
marks such connections, and the loop then closes them without reading them again.
The sweep goes by the time of the last read only: a request that the client sent on
its kept-alive connection just before the sweep, still unread in the socket, is
closed away with it. The client, which cannot know whether its POST was acted on,
sees "Remote end closed connection without response". Here the sweep first asks
the socket whether anything is waiting (bytes, or the client's own close): if so, the
loop reads it as usual, and the connection is closed at a later sweep if it is idle
then. A connection that holds an unfinished request and sends nothing more is still
closed at the timeout, as before: a slow client holds no thread, and no socket
forever.
"""

from __future__ import annotations

import select
from functools import partial

from waitress import create_server as waitress_server
from waitress.server import BaseWSGIServer
from waitress.server import MultiSocketServer


def create_server(app, **options):
    """``waitress.create_server(app, **options)`` with the sweep described above."""
    server = waitress_server(app, **options)
    several = isinstance(server, MultiSocketServer)
    listeners = server.map.values() if several else [server]
    for listener in listeners:  # one, or each of a MultiSocketServer's
        if isinstance(listener, BaseWSGIServer):
            listener.maintenance = partial(close_idle, listener)
    return server


def close_idle(server: BaseWSGIServer, now: float) -> None:
    """Mark for closing each connection idle since before the timeout, with no
    request running and nothing waiting to be read."""
    cutoff = now - server.adj.channel_timeout
    for channel in list(server.active_channels.values()):
        if (not channel.requests and channel.last_activity < cutoff
                and not waiting(channel.socket)):
            channel.will_close = True


def waiting(sock) -> bool:
    """Whether ``sock`` has something to read (poll: no limit on descriptor numbers)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
