"""Exercises as data: ``content/exercises/<id>.toml``, read once at start-up.

Each file names the issuer the attempt's app lives at (a sandbox profile), the app
(client type, grants, redirect URI), what the learner is told (Markdown
instructions, a starting curl and Python snippet) and the checks that grade it
(``[[checks]]``, each of a kind in :mod:`flowlab.exercises.checks`). Texts may hold
``{{client_id}}``, ``{{client_secret}}``, ``{{redirect_uri}}``, ``{{issuer}}``,
``{{authorization_endpoint}}``, ``{{token_endpoint}}``,
``{{device_authorization_endpoint}}`` and ``{{scope}}``, filled with the attempt's
values (:func:`fill`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup
from markupsafe import escape

from flowlab.core import tomlcache
from flowlab.core.content import render_markdown

CLIENT_TYPES = ("confidential", "public")
REQUIRED = ("title", "summary", "practises", "lesson", "issuer", "client_type",
            "grants", "redirect_uri", "scope", "instructions", "curl", "python",
            "checks")
CHECK_REQUIRED = ("id", "kind", "title", "pass", "fail", "ref")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Check:
    """One thing the wire must show (kind and its options), with what to say."""

    id: str
    kind: str
    title: str
    passed: str  # said when it holds
    failed: str  # what was wrong and how to fix it
    ref: str  # the RFC section
    options: Mapping


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    summary: str
    practises: str
    lesson: str  # a lesson's id (content/lessons/<id>.md)
    issuer: str  # a sandbox profile's id
    client_type: str
    grants: tuple[str, ...]
    redirect_uri: str
    scope: str
    instructions: str  # Markdown with placeholders
    curl: str
    python: str
    checks: tuple[Check, ...]
    order: int = 0

    @property
    def instructions_html(self) -> Markup:
        """The instructions as HTML, placeholders still in: rendered on first use
        (and kept by ``render_markdown``), not at start-up."""
        return render_markdown(self.instructions)

    @property
    def confidential(self) -> bool:
        return self.client_type == "confidential"


def load(folder: Path, profiles: set[str], kinds: set[str]) -> dict[str, Exercise]:
    """Every exercise in ``folder``, in order; a missing field, an unknown issuer
    profile or check kind stops start-up."""
    found = [_exercise(path, profiles, kinds) for path in sorted(folder.glob("*.toml"))]
    return {e.id: e for e in sorted(found, key=lambda e: (e.order, e.id))}


def _exercise(path: Path, profiles: set[str], kinds: set[str]) -> Exercise:
    data = tomlcache.read(path)
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    if data["issuer"] not in profiles:
        raise ValueError(f"{path}: unknown issuer profile {data['issuer']!r}")
    if data["client_type"] not in CLIENT_TYPES:
        raise ValueError(f"{path}: client_type is confidential or public")
    checks = tuple(_check(path, raw, kinds) for raw in data["checks"])
    if len({c.id for c in checks}) != len(checks) or not checks:
        raise ValueError(f"{path}: checks need distinct ids")
    return Exercise(
        id=path.stem, title=data["title"], summary=data["summary"],
        practises=data["practises"], lesson=data["lesson"], issuer=data["issuer"],
        client_type=data["client_type"], grants=tuple(data["grants"]),
        redirect_uri=data["redirect_uri"], scope=data["scope"],
        instructions=data["instructions"].strip(),
        curl=data["curl"].strip(), python=data["python"].strip(),
        checks=checks, order=int(data.get("order", 0)),
    )


def _check(path: Path, raw: dict, kinds: set[str]) -> Check:
    missing = [key for key in CHECK_REQUIRED if not raw.get(key)]
    if missing:
        raise ValueError(f"{path}: a check is missing {', '.join(missing)}")
    if raw["kind"] not in kinds:
        raise ValueError(f"{path}: unknown check kind {raw['kind']!r}")
    options = {k: v for k, v in raw.items() if k not in CHECK_REQUIRED}
    return Check(raw["id"], raw["kind"], raw["title"], raw["pass"], raw["fail"],
                 raw["ref"], options)


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known ``{{name}}`` replaced by the attempt's value."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill_html(html: Markup, values: Mapping[str, str]) -> Markup:
    """Rendered Markdown with each placeholder replaced by its escaped value."""
    return Markup(PLACEHOLDER.sub(
        lambda m: str(escape(values[m.group(1)])) if m.group(1) in values
        else m.group(0), str(html)))
