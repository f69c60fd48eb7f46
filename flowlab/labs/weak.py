"""The weak server a learner builds: switches read from ``content/weak-server.toml``,
each save a configuration of its own (RFC 9700 §4, one weakness per switch).

A configuration is a row of the lab's database (``tables.weak_servers``), never
changed once saved: a browser's latest row is what the builder shows, and a lab run
keeps the configuration it started with (its client's id carries it, see
``client.weak_credentials``), so its verdict names the switches as they were. The
lab-only issuer that applies them is ``weak_issuer``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select

from flowlab.core import tomlcache
from flowlab.core.storage.tables import weak_servers

YOURS = "yours"  # the third way to run a lab: against the learner's server
KEEP_SECONDS = 3600  # a replaced configuration lives as long as a run may use it


@dataclass(frozen=True)
class Switch:
    """One weakness the learner may turn on, and the lab issuer override it sets."""

    id: str
    label: str
    section: str  # "RFC 9700 §4.2": the defence it turns off
    weakens: str
    server: dict
    opens: tuple[str, ...]  # the labs whose attack it lets work


@dataclass(frozen=True)
class Switches:
    """Every switch in the page's order; the "yours" run's label and the verdict's
    sentences (``texts``)."""

    all: tuple[Switch, ...]
    texts: dict[str, str]

    def get(self, switch_id: str) -> Switch | None:
        return next((s for s in self.all if s.id == switch_id), None)

    def overrides(self, on: tuple[str, ...]) -> dict:
        """The lab issuer's override of a configuration: each switch's keys."""
        return {k: v for s in self.all if s.id in on for k, v in s.server.items()}

    def labs(self) -> set[str]:
        """Every lab some switch opens."""
        return {lab for s in self.all for lab in s.opens}

    def deciding(self, lab: str, on: tuple[str, ...], verdict: bool | None) -> str:
        """What a verdict adds about the switches opening ``lab``: those that were
        on when the attack worked, or those to turn on when it failed; "" when it
        is undecided, or when none is left to name."""
        named = [s for s in self.all if lab in s.opens and (s.id in on) == verdict]
        if verdict is None or not named:
            return ""
        if verdict:
            names = " and ".join(f"\u201c{s.label}\u201d on ({s.section})"
                                 for s in named)
        else:
            names = " or ".join(f"\u201c{s.label}\u201d ({s.section})" for s in named)
        return self.texts["succeeded" if verdict else "failed"].format(switches=names)

    def saved(self, on: list[str]) -> str:
        """What the builder says after a save."""
        if not on:
            return self.texts["saved-none"]
        return self.texts["saved"].format(count=len(on), total=len(self.all))


def load(path: Path) -> Switches:
    """Read the switches; a missing field fails at start-up, not mid-run."""
    data = tomlcache.read(path)
    found = tuple(Switch(id=s["id"], label=s["label"], section=s["section"],
                         weakens=s["weakens"], server=dict(s["server"]),
                         opens=tuple(s["opens"])) for s in data["switch"])
    return Switches(found, {"label": data["label"], "api-label": data["api-label"],
                            **data["verdict"], **data["saved"]})


@dataclass(frozen=True)
class Configuration:
    """One save of a learner's switches."""

    id: str
    browser: str
    switches: tuple[str, ...]
    created: float


def save(conn: Connection, browser: str, on: list[str]) -> Configuration:
    """A new configuration for ``browser``; its own older ones go once no run can
    still use them."""
    found = Configuration(secrets.token_hex(8), browser, tuple(on), time.time())
    conn.execute(delete(weak_servers).where(
        weak_servers.c.browser == browser,
        weak_servers.c.created < found.created - KEEP_SECONDS))
    conn.execute(insert(weak_servers).values(
        id=found.id, browser=browser, switches=json.dumps(found.switches),
        created=found.created))
    return found


def latest(conn: Connection, browser: str | None) -> Configuration | None:
    """The configuration ``browser`` saved last, if any."""
    if not browser:
        return None
    row = conn.execute(select(weak_servers).where(weak_servers.c.browser == browser)
                       .order_by(weak_servers.c.created.desc()).limit(1)).first()
    return _configuration(row)


def get(conn: Connection, configuration_id: str) -> Configuration | None:
    row = conn.execute(select(weak_servers).where(
        weak_servers.c.id == configuration_id)).first()
    return _configuration(row)


def _configuration(row) -> Configuration | None:
    if row is None:
        return None
    return Configuration(row.id, row.browser, tuple(json.loads(row.switches)),
                         row.created)
