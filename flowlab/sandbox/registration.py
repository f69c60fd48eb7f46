"""Validating what the dashboard and the CLI register: names and redirect URIs.

Errors are friendly sentences keyed by field; the caller shows them beside the
values the user typed, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from .redirects import registration_problem

MAX_URIS = 20
MAX_NAME = 64


@dataclass
class AppForm:
    """What was typed into the create or edit form, and what is wrong with it."""

    name: str = ""
    redirect_uris: str = ""
    kind: str = "confidential"
    implicit: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def uris(self) -> list[str]:
        lines = (line.strip() for line in self.redirect_uris.splitlines())
        return list(dict.fromkeys(line for line in lines if line))

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def check_uris(form: AppForm) -> None:
    """Each redirect URI must be one Spotify would accept (RFC 6749 §3.1.2)."""
    uris = form.uris
    if not uris:
        form.add("redirect_uris", "Add at least one redirect URI, one per line.")
    if len(uris) > MAX_URIS:
        form.add("redirect_uris", f"At most {MAX_URIS} redirect URIs.")
    for uri in uris:
        problem = registration_problem(uri)
        if problem:
            form.add("redirect_uris", f"{uri}: {problem}")


def check_new_app(form: AppForm) -> None:
    """A name, a client type, and acceptable redirect URIs (RFC 7591 §2)."""
    name = form.name.strip()
    if not name:
        form.add("name", "Give the app a name.")
    elif len(name) > MAX_NAME:
        form.add("name", f"Keep the name under {MAX_NAME} characters.")
    if form.kind not in ("confidential", "public"):
        form.add("kind", "Choose confidential or public.")
    if form.implicit and form.kind != "public":
        form.add("kind", "Only public apps may use the implicit grant.")
    check_uris(form)
