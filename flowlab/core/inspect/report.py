"""A provider's report card (issue 22 §4): what an authorization server's metadata
(RFC 8414 §2) says, checked against RFC 9700, OAuth 2.1 and FAPI 2.0, one line a
check, by the rules of ``content/inspect/report-card.toml``.

The rules are data: each line's ``[[line.when]]`` rules are tried in order, each a
condition of one of a few kinds (``CONDITIONS``) on one metadata field, and the
first that holds gives the verdict. Metadata is read by :func:`fetch` only, through
``flowlab.core.discovery`` (the outbound guard, no redirects, the issuer checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flowlab.core import discovery
from flowlab.core.hosts import allows_plain_http
from flowlab.core.providers import LabHosts
from flowlab.core.providers import ProviderError
from flowlab.core.providers import check_url
from flowlab.core.runner.wellknown import server_metadata_urls

VERDICTS = ("pass", "warn", "fail", "unknown")
# Failures that say "no metadata here", after which the next well-known URL is tried;
# any other (unreachable, refused by the guard, another issuer named) ends the search.
NOT_HERE = ("status", "not_json", "redirect", "server_error")
SHOWN = 300  # characters of a metadata value quoted in a line, at most


@dataclass(frozen=True)
class Line:
    """One check's result: its verdict, which rule gave it and what it says."""

    id: str
    title: str
    ref: str
    why: str
    verdict: str
    outcome: str
    say: str
    how: str = ""
    lab: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Card:
    """Every line for one issuer; ``source`` is the URL read ("" for the sandbox's
    own issuers, read from the app's metadata without a fetch)."""

    issuer: str
    source: str
    lines: tuple[Line, ...]

    def counts(self) -> dict[str, int]:
        return {verdict: sum(line.verdict == verdict for line in self.lines)
                for verdict in VERDICTS}


def card(issuer: str, source: str, metadata: dict, data: dict,
         public_url: str | None = None) -> Card:
    """The report card of ``metadata`` by the lines of ``data`` (report-card.toml);
    ``public_url`` is the presenter's address, whose plain http is allowed."""
    return Card(issuer, source, tuple(_line(spec, metadata, public_url)
                                      for spec in data["line"]))


def _line(spec: dict, metadata: dict, public_url: str | None) -> Line:
    rules = spec.get("when", [])
    for rule in rules:
        found = _holds(rule, metadata, public_url)
        if found is not None:
            return _judged(spec, rule, rule["outcome"], metadata, found)
    otherwise = spec["otherwise"]
    field = otherwise.get("field") or next((r["field"] for r in rules if "field" in r),
                                           None)
    return _judged(spec, {**otherwise, "field": field}, "otherwise", metadata, [])


def _judged(spec: dict, rule: dict, outcome: str, metadata: dict,
            found: list[str]) -> Line:
    value = metadata.get(rule["field"]) if rule.get("field") else None
    say = rule["say"].format(value=_shown(value), matched=_shown(found))
    return Line(spec["id"], spec["title"], spec["ref"], spec["why"], rule["verdict"],
                outcome, say, spec.get("how", ""), tuple(spec.get("lab", ())))


def _shown(value) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _names(value) -> list[str] | None:
    """A ``*_supported`` list of strings (RFC 8414 §2), else None."""
    if isinstance(value, list) and all(isinstance(one, str) for one in value):
        return value
    return None


def _present(value, _) -> list[str] | None:
    return [] if value is not None else None


def _missing(value, _) -> list[str] | None:
    malformed = isinstance(value, (list, dict)) and _names(value) is None
    return [] if value is None or malformed else None


def _equals(value, wanted) -> list[str] | None:
    return [] if type(value) is type(wanted) and value == wanted else None


def _includes(value, wanted: list[str]) -> list[str] | None:
    found = [one for one in _names(value) or () if one in wanted]
    return found or None


def _includes_word(value, words: list[str]) -> list[str] | None:
    found = [one for one in _names(value) or () if set(one.split()) & set(words)]
    return found or None


CONDITIONS = {"present": _present, "missing": _missing, "equals": _equals,
              "includes": _includes, "includes_word": _includes_word}


def _holds(rule: dict, metadata: dict, public_url: str | None) -> list[str] | None:
    """What ``rule`` found in ``metadata`` if it holds, else None."""
    if "urls" in rule:
        return _plain_http(metadata, public_url).get(rule["urls"]) or None
    (kind,) = [key for key in CONDITIONS if key in rule]
    return CONDITIONS[kind](metadata.get(rule["field"]), rule[kind])


def _plain_http(metadata: dict, public_url: str | None) -> dict[str, list[str]]:
    """The issuer, ``jwks_uri`` and ``*_endpoint`` fields on plain http: beyond
    loopback (``remote-http``) or on it (``loopback-http``, the lab's exception,
    ``hosts.allows_plain_http``)."""
    found: dict[str, list[str]] = {"remote-http": [], "loopback-http": []}
    for key, value in metadata.items():
        is_url = key in ("issuer", "jwks_uri") or key.endswith("_endpoint")
        if not (is_url and isinstance(value, str)):
            continue
        if urlsplit(value).scheme.lower() == "http":
            allowed = allows_plain_http(value, public_url)
            found["loopback-http" if allowed else "remote-http"].append(key)
    return found


def fetch(issuer: str, texts: dict, timeout: float, *,
          hosts: LabHosts) -> tuple[dict, str]:
    """The metadata of ``issuer`` and the URL it came from: RFC 8414 §3.1 first,
    then OpenID Connect discovery, the path inserted (RFC 8414 §5), then appended
    (Discovery §4.1). Each try goes through ``discovery.discover`` (the outbound
    guard, no redirects, ``issuer`` checked, RFC 8414 §3.3). A URL with no metadata
    gives way to the next; the error shown is the first that says more than a
    status. Call it inside ``outbound.limits``. ``texts``: providers.toml's
    ``[discovery]``."""
    check_url(issuer, "The issuer", hosts)
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise ProviderError("An issuer has no query or fragment (RFC 8414 §2).")
    failures: list[discovery.DiscoveryFailed] = []
    for url in server_metadata_urls(issuer.rstrip("/")):
        try:
            return discovery.discover(url, texts, timeout, hosts=hosts), url
        except discovery.DiscoveryFailed as exc:
            if exc.kind not in NOT_HERE:
                raise
            failures.append(exc)
    raise next((one for one in failures if one.kind != "status"), failures[0])
