"""A lab page's request and answer as plain data, so the labs import no Flask.

The Flask glue (``web.labs`` and the attacker's app, ``attacker``) reads each
request into an :class:`Incoming` and turns the :class:`Answer` a lab returns into
a response.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flowlab.core.http import Exchange
from flowlab.core.http import Message

# The attacker's own host: another loopback address, so it gets none of the lab's
# cookies (a browser sends a host's cookies to all of its ports).
ATTACKER_HOST = "127.0.0.2"

# Headers of a request a lab received worth showing (the cookie is masked).
SHOWN = ("host", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer",
         "cookie")


@dataclass(frozen=True)
class Incoming:
    """What a lab's page received: its URL, query, form, and the request as shown."""

    method: str
    url: str
    base_url: str  # the URL without its query
    host_url: str  # scheme://host/
    args: dict[str, str]  # the first value of each query parameter
    form: dict[str, str]
    message: Message  # the request line and the SHOWN headers
    headers: tuple[tuple[str, str], ...] = ()  # every header, for a lab's own API

    def header(self, name: str) -> list[str]:
        """Every value of the header ``name`` (any case)."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def exchange(self) -> Exchange:
        """The request as a trace entry (no response yet)."""
        return Exchange(self.message, url=self.url)


@dataclass(frozen=True)
class Answer:
    """A lab's answer: a redirect (``location``), a page rendered from
    ``template`` and ``context``, or ``body`` as it stands."""

    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    mimetype: str | None = None
    location: str | None = None
    template: str | None = None
    context: dict = field(default_factory=dict)


def redirect(location: str, status: int = 302) -> Answer:
    return Answer(status, location=location)


NOT_FOUND = Answer(404, "Not found")
