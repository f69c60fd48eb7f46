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

    def describe(self, scopes: list[str]) -> list[tuple[str, str]]:
        """Each scope with its plain-words meaning, in the order asked."""
        return [(scope, self.scopes[scope]) for scope in scopes]


def load(folder: Path) -> Catalogue:
    """Read the five TOML files of ``folder``."""

    def read(name: str) -> dict:
        with open(folder / f"{name}.toml", "rb") as f:
            return tomllib.load(f)

    return Catalogue(
        scopes=read("scopes")["scopes"],
        grants=read("grants")["grants"],
        users={user["id"]: user for user in read("users")["users"]},
        artists={artist["id"]: artist for artist in read("artists")["artists"]},
        playlists=read("playlists")["playlists"],
    )
