"""What the rest of the app may use of the sandbox: this module, nothing else.

:class:`Sandbox` is the authorization server of one app, Flask-free: its demo data,
its issuers and their oauthlib servers, built from the app's config. A lab that needs
a weak authorization server asks :meth:`Sandbox.add_issuer` for an issuer of its own:
its profile (path, name) and a :class:`RequestValidator` subclass that overrides the
one check it weakens. The web side (``flowlab.web.sandbox``) serves every issuer. The
labs' clients live in the sandbox's database (``DB``), their secrets kept as
``digest``s as every client's are. A lab's own resource server may take a JWK's
RFC 7638 ``thumbprint`` and keep a replay cache with ``use_once``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from flowlab.sandbox import catalogue
from flowlab.sandbox import issuers
from flowlab.sandbox import store
from flowlab.sandbox.device import DeviceEndpoint
from flowlab.sandbox.issuers import IssuerProfile
from flowlab.sandbox.keys import thumbprint
from flowlab.sandbox.once import use_once
from flowlab.sandbox.server import SandboxServer
from flowlab.sandbox.server import Settings
from flowlab.sandbox.server import metadata as server_metadata
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import digest
from flowlab.sandbox.store import refresh_clients
from flowlab.sandbox.validator import RequestValidator

__all__ = ["DB", "AddedIssuer", "IssuerProfile", "RequestValidator", "Sandbox",
           "client_secret", "create_client", "delete_clients", "digest",
           "refresh_clients", "thumbprint", "use_once"]


@dataclass(frozen=True)
class AddedIssuer:
    """An issuer added by another part of the app: a token endpoint (RFC 6749 §3.2)
    whose answers carry ``headers``, and with ``pages`` the authorize pages (§3.1)."""

    profile: IssuerProfile
    server: SandboxServer
    pages: bool
    headers: Mapping[str, str]


class Sandbox:
    """The sandbox of one app: ``config`` is the app's, ``caller`` names who sends
    the request being answered (failed authentications are counted per caller)."""

    def __init__(self, config: Mapping, caller: Callable[[], str]) -> None:
        folder = Path(config["CONTENT_DIR"]) / "sandbox"
        self.config, self.caller = config, caller
        self.catalogue = catalogue.load(folder)
        self.profiles = issuers.load(folder / "profiles.toml")
        self.differences = issuers.load_differences(folder)
        self.added: list[AddedIssuer] = []
        self._servers: dict[str, SandboxServer] = {}
        self._settings: dict[str, Settings] = {}
        self._devices: dict[str, DeviceEndpoint] = {}
        self._mounts: list[Callable[[AddedIssuer], None]] = []

    def settings(self, profile: IssuerProfile) -> Settings:
        """An issuer's settings: its profile's, else the app's config. Worked out
        once per issuer, as its server's validator keeps them (``server``)."""
        if profile.id not in self._settings:
            self._settings[profile.id] = self._work_out(profile)
        return self._settings[profile.id]

    def _work_out(self, profile: IssuerProfile) -> Settings:
        config = self.config
        rotate = profile.rotate_refresh_tokens
        if rotate is None:  # Not a Spotify behaviour: off unless configured.
            rotate = bool(config.get("SANDBOX_ROTATE_REFRESH_TOKENS"))
        return Settings(
            code_ttl=int(profile.code_ttl or config["SANDBOX_CODE_TTL"]),
            token_ttl=int(config["SANDBOX_TOKEN_TTL"]),
            failure_limit=int(config["SANDBOX_AUTH_FAILURES_PER_MINUTE"]),
            scopes=frozenset(self.catalogue.scopes) | frozenset(
                self.catalogue.oidc["scopes"] if profile.oidc else ()),
            rotate_refresh_tokens=rotate,
            pkce_for_all=profile.pkce_for == "all",
            invalid_client_status=profile.invalid_client_status,
            missing_verifier_error=profile.missing_verifier_error,
            loopback_any_port=profile.loopback_any_port,
            token_prefix=profile.token_prefix,
            par=profile.par,
            dpop=profile.dpop,
            device_grant=profile.device_grant,
            implicit_grant=profile.implicit_grant,
            foreign_prefixes=tuple(p.token_prefix for p in self.profiles.all
                                   if p is not profile),
            oidc=profile.oidc, id_token_alg=profile.id_token_alg,
            oidc_claims=self.catalogue.oidc_claims(),
            issuer_path=profile.path, access_tokens=profile.access_tokens,
            resource_indicators=profile.resource_indicators,
            protected_resource=profile.protected_resource,
            token_exchange=profile.token_exchange,
            signing_secret=str(config["SECRET_KEY"]),
            registration=profile.registration,
            registrations_per_minute=int(
                config.get("SANDBOX_REGISTRATIONS_PER_MINUTE", 30)),
            auth_methods=profile.auth_methods,
            assertion_aud_array=profile.assertion_aud_array,
            client_id_metadata_documents=profile.client_id_metadata_documents,
        )

    def server(self, profile: IssuerProfile) -> SandboxServer:
        """oauthlib's endpoints, built once per issuer; their validator asks for
        the current connection and caller each time it needs them."""
        if profile.id not in self._servers:
            self._servers[profile.id] = self._build(profile, RequestValidator)
        return self._servers[profile.id]

    def _build(self, profile: IssuerProfile,
               validator_cls: type[RequestValidator]) -> SandboxServer:
        settings = self.settings(profile)
        validator = validator_cls(settings, DB.get, self.caller)
        return SandboxServer(validator, settings.token_ttl)

    def device_endpoint(self, profile: IssuerProfile,
                        page: Callable[[], str]) -> DeviceEndpoint:
        """The device authorization endpoint (RFC 8628 §3.1), built once per
        issuer; ``page`` gives the verification URI of the request's host."""
        if profile.id not in self._devices:
            self._devices[profile.id] = DeviceEndpoint(
                self.server(profile).request_validator, page,
                int(self.config["SANDBOX_DEVICE_TTL"]),
                int(self.config["SANDBOX_DEVICE_INTERVAL"]))
        return self._devices[profile.id]

    def metadata(self, profile: IssuerProfile, issuer: str) -> dict:
        """The RFC 8414 §2 metadata of ``profile``'s issuer at ``issuer``: what its
        well-known URL serves, and what the report card reads without a fetch."""
        scopes = sorted(self.settings(profile).scopes)
        return server_metadata(self.server(profile), issuer, scopes)

    def issuer_path(self, profile_id: str) -> str:
        """Where a sandbox profile's issuer lives (``profiles.toml``)."""
        return self.profiles.get(profile_id).path

    def add_issuer(self, profile: IssuerProfile,
                   validator_cls: type[RequestValidator] | None = None, *,
                   pages: bool = False, headers: Mapping | None = None) -> None:
        """Serve another issuer at ``profile.path``: a token endpoint (RFC 6749
        §3.2) whose answers carry ``headers``, and with ``pages`` the authorize
        pages (§3.1). It has the default profile's settings; no metadata, and no
        sandbox profile lists it."""
        server = self._build(self.profiles.default, validator_cls or RequestValidator)
        self._servers[profile.id] = server
        added = AddedIssuer(profile, server, pages, dict(headers or {}))
        self.added.append(added)
        for mount in self._mounts:
            mount(added)

    def on_issuer(self, mount: Callable[[AddedIssuer], None]) -> None:
        """Call ``mount`` for every added issuer, those to come included: how the
        web side serves them."""
        self._mounts.append(mount)
        for added in self.added:
            mount(added)



def create_client(conn: Connection, config: Mapping, *, client_id: str, name: str,
                  redirect_uris: list[str], confidential: bool,
                  grant_types: list[str], owner: str) -> str | None:
    """Register an app with this ``client_id`` (RFC 6749 §2, RFC 7591 §2); its
    secret, None for a public app. The secret is derived from the app's key, so
    :func:`client_secret` gives it again; only its digest is stored."""
    _, secret = store.create_client(
        conn, config, name=name, redirect_uris=redirect_uris,
        confidential=confidential, grant_types=grant_types, owner=owner,
        client_id=client_id)
    return secret


def client_secret(conn: Connection, config: Mapping, client_id: str) -> str | None:
    """The secret of a registered app, derived again; None if public or gone."""
    client = store.get_client(conn, client_id)
    return store.shown_secret(config, client) if client else None


def delete_clients(conn: Connection, client_ids: list[str]) -> None:
    """Remove apps with their grants, codes, tokens and consents."""
    for client_id in client_ids:
        store.delete_client(conn, client_id)
