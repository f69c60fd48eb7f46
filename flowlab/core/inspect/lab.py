"""From the inspector into the lab (issue 22 §5): the runner's flow that sends a
pasted message's equivalent, the labs that show its findings' attacks live, and
the text of a run's message to inspect. Data: ``content/inspect/lab.toml``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urljoin

from flowlab.core import ROOT
from flowlab.core import tomlcache
from flowlab.core.http import Message
from flowlab.core.inspect.findings import applies
from flowlab.core.inspect.findings import holds
from flowlab.core.inspect.recognize import Pasted

FLOWS = tomlcache.read(ROOT / "content" / "inspect" / "lab.toml")["flow"]


@dataclass(frozen=True)
class InTheLab:
    """Where the lab runs what was pasted: a flow id and why; lab ids."""

    flow: str = ""
    why: str = ""
    labs: tuple[str, ...] = ()


def in_the_lab(pasted: Pasted, rules: list[dict], flows: Collection[str],
               labs: Collection[str]) -> InTheLab:
    """The first equivalent among ``flows`` (the runner's), and the labs among
    ``labs`` that the fired ``rules`` name, each once, most severe first."""
    found = next((e for e in FLOWS if e["flow"] in flows
                  and applies(e, pasted) and all(holds(e.get("when", {}), pasted))),
                 {})
    named = [rule["lab"] for rule in rules if rule.get("lab") in labs]
    return InTheLab(found.get("flow", ""), found.get("why", ""),
                    tuple(dict.fromkeys(named)))


def inspectable(message: Message, url: str = "") -> str:
    """A run's message as the inspector reads it best: a browser's GET as its
    address, a redirect as where it sends the browser, anything else as HTTP."""
    if message.start.is_response:
        location = message.header("Location")
        return location if location and not message.body else message.as_http()
    if message.start.method == "GET" and url:  # the address as the browser had it
        return urljoin(url, message.start.target)
    return message.as_http()
