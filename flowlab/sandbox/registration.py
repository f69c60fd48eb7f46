"""Validating what the dashboard and the CLI register: names, grants, redirect URIs.

Errors are friendly sentences keyed by field; the caller shows them beside the
values the user typed, so nothing is lost. Grants carry their RFC 7591 §2 names.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field

from flowlab.core.demo import DEVICE_GRANT
from flowlab.sandbox.redirects import registration_problem

MAX_URIS = 20
MAX_NAME = 64
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
# The grants that send the user back to a redirect URI (RFC 7591 §2.1).
REDIRECT_GRANTS = ("authorization_code", "implicit")
# The grants whose tokens may come with a refresh token (RFC 6749 §4.1.4, §4.4.3).
REFRESHABLE = ("authorization_code", DEVICE_GRANT)


@dataclass
class AppForm:
    """What was typed into the create or edit form, and what is wrong with it."""

    name: str = ""
    redirect_uris: str = ""
    kind: str = "confidential"
    grants: list[str] = field(default_factory=lambda: list(DEFAULT_GRANTS))
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def uris(self) -> list[str]:
        lines = (line.strip() for line in self.redirect_uris.splitlines())
        return list(dict.fromkeys(line for line in lines if line))

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def needs_redirect(grants: Collection[str]) -> bool:
    """Whether any of ``grants`` sends the user back to the app (RFC 6749 §3.1.2)."""
    return any(grant in REDIRECT_GRANTS for grant in grants)


def check_uris(form: AppForm, required: bool = True,
               public_url: str | None = None) -> None:
    """Each redirect URI must be one Spotify would accept (RFC 6749 §3.1.2); plain
    http off loopback only on the presenter's ``public_url``."""
    uris = form.uris
    if required and not uris:
        form.add("redirect_uris", "Add at least one redirect URI, one per line: the"
                 " authorization code and implicit grants send the user back to one.")
    if len(uris) > MAX_URIS:
        form.add("redirect_uris", f"At most {MAX_URIS} redirect URIs.")
    for uri in uris:
        problem = registration_problem(uri, public_url)
        if problem:
            form.add("redirect_uris", f"{uri}: {problem}")


def check_grants(form: AppForm, known: Collection[str]) -> None:
    """Known grant names, each allowed for the client type (RFC 7591 §2)."""
    grants = form.grants
    for grant in dict.fromkeys(grants):
        if grant not in known:
            form.add("grants", f"Unknown grant type “{grant}”. Use one of: "
                     + ", ".join(known) + ".")
    if not grants:
        form.add("grants", "Choose at least one grant.")
    if "client_credentials" in grants and form.kind == "public":
        form.add("grants", "Only confidential apps may use client credentials: a"
                 " public app has no secret to prove it is itself (RFC 6749 §4.4).")
    if "implicit" in grants and form.kind != "public":
        form.add("grants", "Only public apps may use the implicit grant.")
    if "refresh_token" in grants and not any(g in REFRESHABLE for g in grants):
        form.add("grants", "A refresh token comes from the authorization code or the"
                 " device grant: choose one of them too.")


def check_new_app(form: AppForm, known: Collection[str],
                  public_url: str | None = None) -> None:
    """A name, a client type, known grants and acceptable redirect URIs (RFC 7591
    §2); no redirect URI needed when no grant uses one."""
    name = form.name.strip()
    if not name:
        form.add("name", "Give the app a name.")
    elif len(name) > MAX_NAME:
        form.add("name", f"Keep the name under {MAX_NAME} characters.")
    if form.kind not in ("confidential", "public"):
        form.add("kind", "Choose confidential or public.")
    check_grants(form, known)
    check_uris(form, needs_redirect(form.grants), public_url)
