"""The inspector's lint rules, read from ``content/inspect/rules.toml``: each rule
names the kinds (and JWT uses) it looks at, the fields, one matcher, conditions on
other fields, a severity, a message and its RFC section (RFC 9700 throughout)."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

from flowlab.core import ROOT
from flowlab.core import tomlcache
from flowlab.core.inspect.recognize import Pasted

RULES = tomlcache.read(ROOT / "content" / "inspect" / "rules.toml")["rule"]
ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
SPOTIFY = ("spotify.com",)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _present(rule, values, now):
    pattern = re.compile(rule.get("pattern", ""))
    return next((v for v in values if pattern.search(v)), None)


def _absent(rule, values, now):
    return "" if not values else None


def _before(rule, values, now):
    """A time claim (RFC 7519 §4.1.4, §4.1.6) more than ``seconds`` in the past."""
    times = [t for t in map(_number, values) if t is not None]
    return next((_when(t) for t in times if t < now - rule.get("seconds", 0)), None)


def _after(rule, values, now):
    times = [t for t in map(_number, values) if t is not None]
    return next((_when(t) for t in times if t > now + rule.get("seconds", 0)), None)


def _more_than(rule, values, now):
    return next((v for v in values if len(v.split()) > rule["count"]), None)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


MATCHERS = {"present": _present, "absent": _absent, "before": _before,
            "after": _after, "more_than": _more_than}


def holds(conditions: dict, pasted: Pasted) -> list[bool]:
    """For each ``name = pattern`` condition, whether a field so named (any case)
    matches."""
    return [any(re.search(pattern, v) for _, n, v in pasted.fields
                if n.lower() == name.lower())
            for name, pattern in conditions.items()]


def applies(rule: dict, pasted: Pasted) -> bool:
    if pasted.kind not in rule["kinds"]:
        return False
    if "uses" in rule and pasted.use not in rule["uses"]:
        return False
    return rule.get("applies", "any") == "any" or pasted.host.endswith(SPOTIFY)


def fired(pasted: Pasted, redact, now: float) -> list[tuple[dict, dict]]:
    """Each rule that fires with its finding, most severe first."""
    found = []
    for rule in RULES:
        if not applies(rule, pasted):
            continue
        if not all(holds(rule.get("when", {}), pasted)) or any(
                holds(rule.get("unless", {}), pasted)):
            continue
        wanted = set(rule.get("where", [])) or None
        values = [v for where, name, v in pasted.fields if name in rule.get(
            "names", []) and (wanted is None or where in wanted)]
        matched = MATCHERS[rule.get("match", "present")](rule, values, now)
        if matched is None and rule.get("names"):
            continue
        message = rule["message"].replace("{value}", redact(matched or ""))
        found.append((rule, {"severity": rule["severity"], "message": message,
                             "ref": rule["ref"]}))
    return sorted(found, key=lambda pair: ORDER[pair[1]["severity"]])
