"""The lab's public address, and the private back-channel address it stands for.

The runner reaches the mounted sandbox on a private loopback port chosen at random on
each start (``flowlab.serving``). That port answers only on the lab's machine and only
until the next restart, so screens and exports name the public address instead:
``FLOWLAB_PUBLIC_URL``, else the address the browser used (the web side's
``flowlab.web.session.addresses`` passes them in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import replace
from urllib.parse import quote
from urllib.parse import urlsplit

from flowlab.core.hosts import is_loopback_host
from flowlab.core.provider import Provider
from flowlab.core.redact import each_string

# Places in a run's provider profile that may name the private listener.
ENDPOINTS = ("token_url", "api_base", "expire_url", "device_authorization_url")


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, or "" when it has none."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class Addresses:
    """The public base URL, and the private origins it replaces in text."""

    public: str
    private: tuple[str, ...] = ()

    def is_private(self, url: str) -> bool:
        """Whether ``url`` points at the private back-channel listener."""
        return bool(url) and origin(url) in self.private

    def sent_privately(self, exchange) -> bool:
        """Whether a captured exchange (object or dict) went to the private port."""
        url = exchange.get("url", "") if isinstance(exchange, dict) else exchange.url
        return self.is_private(url)

    def __call__(self, text: str) -> str:
        """``text`` with each private origin (plain, percent-encoded, or as a bare
        ``host:port`` in a ``Host`` header) replaced by the public one."""
        if not text or not self.private:
            return text
        public = self.public.rstrip("/")
        swaps = [(public, r"(?!\d)"), (quote(public, safe=""), r"(?!\d)"),
                 (urlsplit(public).netloc, r"(?!\d)")]
        for private in self.private:
            forms = (private, quote(private, safe=""), urlsplit(private).netloc)
            for form, (new, tail) in zip(forms, swaps, strict=True):
                pattern = r"(?<![\w.])" + re.escape(form) + tail
                text = re.sub(pattern, lambda _, new=new: new, text)
        return text

    def deep(self, value):
        """A copy of a JSON-ready structure with every string made public."""
        return each_string(value, self)

    def run(self, run):
        """A copy of ``run`` naming only the public address; a ``Content-Length``
        follows its body when the body changed."""
        if not self.private:
            return run
        steps = [replace(record, data=self.deep(record.data),
                         error=self.deep(record.error),
                         exchanges=tuple(self._exchange(e) for e in record.exchanges))
                 for record in run.steps]
        provider = Provider.from_json(self.deep(run.provider.to_json()))
        return replace(run, steps=steps, provider=provider)

    def _exchange(self, data: dict) -> dict:
        out = self.deep(data)
        for part in ("request", "response"):
            before, after = data.get(part), out.get(part)
            if before and after and before["body"] != after["body"]:
                size = str(len(after["body"].encode()))
                after["headers"] = [[k, size if k.lower() == "content-length" else v]
                                    for k, v in after["headers"]]
        return out

    def used_by(self, run) -> bool:
        """Whether any exchange of ``run`` went to the private port."""
        return any(self.sent_privately(e) for record in run.steps
                   for e in record.exchanges)


def private_origins(provider: Provider | None,
                    backchannel: str | None = None) -> tuple[str, ...]:
    """The private listener's origins: today's, and the one this run's calls used
    (a sandbox endpoint on loopback that is not where the browser went)."""
    found = {origin(backchannel)} if backchannel else set()
    if provider is not None and provider.is_sandbox:
        browser = origin(provider.authorize_url)
        for key in ENDPOINTS:
            place = origin(getattr(provider, key) or "")
            loopback = is_loopback_host(urlsplit(place).hostname)
            if place and place != browser and loopback:
                found.add(place)
    return tuple(sorted(found - {""}))


def addresses(run=None, public: str | None = None,
              backchannel: str | None = None) -> Addresses:
    """The addresses for ``run`` (or for a request alone): ``public``, the address
    its browser used, and this process's ``backchannel``, as a request knows them.

    Without them (outside a request) the public base is where the run's browser
    went.
    """
    provider = run.provider if run is not None else None
    if public is None:
        public = origin(provider.authorize_url if provider else "")
        backchannel = None
    private = tuple(p for p in private_origins(provider, backchannel)
                    if p != origin(public))
    return Addresses(public, private)


def sent_privately(run, exchange) -> str | None:
    """For the step page: the public base URL if ``exchange`` (a captured exchange,
    as stored in a run step) went to the private back-channel port, else None."""
    where = addresses(run)
    return where.public if where.sent_privately(exchange) else None
