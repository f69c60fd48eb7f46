"""Sandbox profiles: one issuer each, the same app under another path (RFC 8414 §2).

``content/sandbox/profiles.toml`` lists them; the first is the Spotify-like default at
``/sandbox``. The web side (``flowlab.web.sandbox.issuers``) serves each profile's
pages and endpoints under its path, with its own RFC 8414 §3.1 metadata URL. The
code reads a profile's settings and never asks which profile it is. All issuers
share one database: a profile's ``token_prefix`` marks the codes and tokens it
makes, so that another issuer refuses them (RFC 9207 §1: one client, several
servers).
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flowlab.sandbox import jwtat

WELL_KNOWN = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True)
class IssuerProfile:
    """One issuer's settings; ``None`` means "as the app's config says"."""

    id: str
    path: str
    name: str
    label: str
    code_ttl: int | None = None
    rotate_refresh_tokens: bool | None = None
    pkce_for: str = "public"  # "public" or "all" (OAuth 2.1 §4.1.1)
    invalid_client_status: int = 400  # RFC 6749 §5.2 says 401
    missing_verifier_error: str = "invalid_request"  # OAuth 2.1: invalid_grant
    loopback_any_port: bool = True  # RFC 8252 §7.3
    token_prefix: str = ""
    oidc: bool = False  # OpenID Connect (content/sandbox/oidc.toml)
    id_token_alg: str = "RS256"  # unless the client registered another (OIDC §2)
    access_tokens: str = "opaque"  # or "jwt" (RFC 9068)
    resource_indicators: bool = False  # RFC 8707
    protected_resource: bool = False  # the API checks aud; RFC 9728 metadata
    token_exchange: bool = False  # RFC 8693
    par: str = "off"  # "off", "offered" or "required" (RFC 9126 §5)
    dpop: str = "off"  # "off", "offered" or "required" (RFC 9449)
    device_grant: bool = True  # RFC 8628, not in Spotify; not in FAPI 2.0
    implicit_grant: bool = True  # RFC 6749 §4.2; not in FAPI 2.0 (code only)
    registration: bool = False  # RFC 7591 open registration, RFC 7592 management
    # Client authentication methods (RFC 8414 §2, RFC 7591 §2); FAPI 2.0: one.
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post",
                                     "none")
    # private_key_jwt: a one-element ``aud`` array naming the issuer is accepted
    # (draft-ietf-oauth-rfc7523bis); FAPI 2.0 SP §5.3.2.1 wants the bare string.
    assertion_aud_array: bool = False
    client_id_metadata_documents: bool = False  # a URL client_id names its document

    def __post_init__(self) -> None:
        object.__setattr__(self, "auth_methods", tuple(self.auth_methods))

    def endpoint_suffix(self, default: IssuerProfile) -> str:
        """What this profile adds to a blueprint's name ("" for the default)."""
        return "" if self is default else "_" + self.id.replace("-", "_")


@dataclass(frozen=True)
class IssuerProfiles:
    """Every profile, the default first, and which of the web side's endpoints
    belongs to which (filled as it serves them)."""

    all: tuple[IssuerProfile, ...]
    by_endpoint: dict[str, IssuerProfile]

    @property
    def default(self) -> IssuerProfile:
        return self.all[0]

    def get(self, profile_id: str) -> IssuerProfile | None:
        return next((p for p in self.all if p.id == profile_id), None)

    def of(self, blueprint: str | None, endpoint: str | None) -> IssuerProfile:
        """The profile of a request's blueprint or endpoint; else the default."""
        return (self.by_endpoint.get(blueprint or "")
                or self.by_endpoint.get(endpoint or "") or self.default)

    def token_paths(self) -> tuple[str, ...]:
        """Every issuer's token endpoint path (RFC 6749 §3.2)."""
        return tuple(p.path + "/api/token" for p in self.all)

    def par_paths(self) -> tuple[str, ...]:
        """The PAR endpoint path of every issuer that offers it (RFC 9126 §2)."""
        return tuple(p.path + "/api/par" for p in self.all if p.par != "off")


def load(path: Path) -> IssuerProfiles:
    """Read ``profiles.toml``: a ``[profile.<id>]`` table per issuer."""
    with open(path, "rb") as f:
        tables = tomllib.load(f)["profile"]
    found = tuple(IssuerProfile(id=key, **fields) for key, fields in tables.items())
    prefixes = [p.token_prefix for p in found]
    # A dot never occurs in secrets.token_urlsafe output: no token of one issuer
    # can start with another issuer's mark by chance.
    if len(set(prefixes)) != len(prefixes) or any(
            p and not (p.endswith(".") and p[:-1].isalpha()) for p in prefixes):
        raise ValueError("each sandbox profile needs its own token_prefix: empty, "
                         "or letters and a final dot")
    return IssuerProfiles(found, {})


def secret_maker(prefix: str):
    """A generator of 256-bit random codes and tokens (RFC 6749 §10.10), each
    starting with the issuer's mark."""

    def make(request=None) -> str:
        return prefix + secrets.token_urlsafe(32)

    return make


def issued_here(settings, value: str) -> bool:
    """Whether this issuer made ``value``: it starts with this issuer's mark, and
    not with the longer mark of another issuer (one database, several issuers).
    A JWT carries no mark: its ``iss`` names its issuer (RFC 9068 §2.2)."""
    path = jwtat.issuer_path(value)
    if path is not None:
        return path == settings.issuer_path
    own = settings.token_prefix
    return value.startswith(own) and not any(
        value.startswith(other) for other in settings.foreign_prefixes
        if len(other) > len(own))


def load_differences(folder: Path) -> dict:
    """``profile-differences.toml``: ``intro`` and one ``[[difference]]`` per topic,
    each naming the RFC sections behind it."""
    with open(folder / "profile-differences.toml", "rb") as f:
        return tomllib.load(f)
