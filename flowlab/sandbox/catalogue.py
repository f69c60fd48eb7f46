"""The sandbox's demo data, read once at start-up from ``content/sandbox/*.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Catalogue:
    """Scopes in plain words, grants an app may register for, demo users, artists
    and playlists."""

    scopes: dict[str, str]
    grants: dict[str, dict]  # RFC 7591 §2 name: label and help
    users: dict[str, dict]
    artists: dict[str, dict]
    playlists: list[dict]
    oidc: dict  # oidc.toml: OpenID Connect's scopes and the claims they release

    def describe(self, scopes: list[str]) -> list[tuple[str, str]]:
        """Each scope with its plain-words meaning, in the order asked."""
        words = {**self.scopes, **self.oidc["scopes"]}
        return [(scope, words[scope]) for scope in scopes]

    def oidc_claims(self) -> tuple[str, ...]:
        """The UserInfo claims some scope releases (OIDC Core §5.4), in order."""
        return tuple(dict.fromkeys(
            name for table in ("claims", "fixed")
            for released in self.oidc[table].values() for name in released))

    def userinfo(self, user: dict, scopes: list[str]) -> dict:
        """``sub`` and the claims the token's scopes release (OIDC Core §5.3.2)."""
        found = {"sub": user["id"]}
        for scope in scopes:
            for claim, field in self.oidc["claims"].get(scope, {}).items():
                found[claim] = user[field]
            found.update(self.oidc["fixed"].get(scope, {}))
        return found


def load(folder: Path) -> Catalogue:
    """Read the six TOML files of ``folder``."""

    def read(name: str) -> dict:
        with open(folder / f"{name}.toml", "rb") as f:
            return tomllib.load(f)

    return Catalogue(
        scopes=read("scopes")["scopes"],
        grants=read("grants")["grants"],
        users={user["id"]: user for user in read("users")["users"]},
        artists={artist["id"]: artist for artist in read("artists")["artists"]},
        playlists=read("playlists")["playlists"],
        oidc=read("oidc"),
    )
