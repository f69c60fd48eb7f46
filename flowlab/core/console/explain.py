"""What an API's answer means: the status (401 against 403), the Bearer challenge
in ``WWW-Authenticate`` (RFC 6750 §3, §3.1), the scope a call needs against the
token's, and rate limits (RFC 6585 §4, RFC 9110 §10.2.3). Every sentence comes
from ``content/console.toml``; this module only picks and fills them."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from flowlab.core.http import Message

# auth-param = token BWS "=" BWS ( token / quoted-string )  (RFC 9110 §11.2)
PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*'
                   r'("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """A single challenge's scheme and attributes (RFC 9110 §11.6.1)."""
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for name, raw in PARAM.findall(rest):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name.lower()] = raw
    return scheme, params


def endpoint_for(path: str, method: str, endpoints: list[dict]) -> dict | None:
    """The listed endpoint a path and method call (``{id}`` is one segment)."""
    for endpoint in endpoints:
        shape = re.escape(endpoint["path"]).replace(r"\{id\}", "[^/]+")
        if endpoint["method"] == method and re.fullmatch(shape, path):
            return endpoint
    return None


def _scopes(words) -> str:
    return ", ".join(f"`{w}`" for w in words)


def scope_notes(needs: list[str], has: str | None, texts: dict) -> list[str]:
    """The scopes a call needs against the token's (RFC 6749 §3.3)."""
    granted = (has or "").split()
    words = texts["scope"]
    found = [words["needs"].format(needs=_scopes(needs) or words["none"],
                                   has=_scopes(granted) or words["none"])]
    missing = [s for s in needs if s not in granted]
    if missing:
        found.append(words["missing"].format(missing=_scopes(missing)))
    return found


def challenge_notes(value: str, texts: dict) -> list[str]:
    """Each part of a Bearer challenge in words (RFC 6750 §3, §3.1)."""
    words = texts["challenge"]
    scheme, params = parse_challenge(value)
    found = [words["intro"]]
    if scheme.lower() == "bearer":
        found.append(words["scheme"])
    error = params.get("error")
    if error is None:
        found.append(words["no_error"])
    else:
        found.append(words["errors"].get(error, f"`{error}`"))
    found += [words[name] for name in ("realm", "error_description", "scope",
                                       "error_uri") if name in params]
    return found


def retry_notes(value: str | None, texts: dict) -> list[str]:
    """What ``Retry-After`` asks (seconds or an HTTP date; RFC 9110 §10.2.3)."""
    words = texts["rate"]
    if not value:
        return [words["no_retry_after"]]
    if value.strip().isdigit():
        seconds = f"{int(value)} s"
    else:
        try:
            seconds = parsedate_to_datetime(value).isoformat()
        except (TypeError, ValueError):
            seconds = "a date this client cannot read"
    return [words["retry_after"].format(value=value.strip(), seconds=seconds)]


def explain(record: dict, endpoints: list[dict], texts: dict) -> dict:
    """The notes of one stored call: ``status``, ``challenge``, ``scope`` and
    ``rate``, each a list of Markdown sentences (empty when it does not apply)."""
    exchange = record.get("exchange") or {}
    notes = {"status": [], "challenge": [], "scope": [], "rate": []}
    if not exchange.get("response"):
        return notes
    response = Message.from_json(exchange["response"])
    status = response.start.status
    text = texts["status"].get(str(status))
    if text:
        notes["status"].append(text)
    challenge = response.header("WWW-Authenticate")
    if challenge:
        notes["challenge"] = challenge_notes(challenge, texts)
    call = record["call"]
    endpoint = endpoint_for(call["path"], call["method"], endpoints)
    needs = list(endpoint["scopes"]) if endpoint else []
    if challenge and "scope" in parse_challenge(challenge)[1]:
        needs = parse_challenge(challenge)[1]["scope"].split()
    if (needs or status == 403) and call["token"] == "run":
        notes["scope"] = scope_notes(needs, record.get("scopes"), texts)
    if status == 429:
        notes["rate"] = retry_notes(response.header("Retry-After"), texts)
    return notes
