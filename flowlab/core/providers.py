"""Provider profiles: where a flow's requests go, and as which client.

A profile (``flowlab.core.provider.Provider``) is a value kept with a run: endpoints,
client ids, what the provider can do. Client secrets are never part of it: the
sandbox's come from ``flowlab.core.demo``, anyone else's from the browser's in-memory
credentials (``flowlab.core.credentials``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from urllib.parse import urlsplit

from flowlab.core.demo import DEVICE_GRANT
from flowlab.core.demo import demo_apps
from flowlab.core.demo import device_app
from flowlab.core.hosts import allows_plain_http
from flowlab.core.provider import Provider


class ProviderError(ValueError):
    """A provider that cannot be used, with the reason in plain words."""


@dataclass(frozen=True)
class LabHosts:
    """Where this lab is reached: its host names (a browser sends a host's cookies
    to all its ports, RFC 6265 §8.5) and the presenter's ``PUBLIC_URL``, whose
    plain http is allowed (``hosts.allows_plain_http``). Views build it."""

    names: frozenset[str] = frozenset()
    public_url: str | None = None


def sandbox(base_url: str, config: Mapping, path: str = "/sandbox",
            name: str = "Sandbox provider", openid: bool = False,
            secrets_accepted: bool = True, extensions: tuple[str, ...] = (),
            grants: tuple[str, ...] = ()) -> Provider:
    """The embedded sandbox, reached over HTTP at ``base_url`` (or SANDBOX_URL);
    ``path`` and ``name`` pick one of its issuers (content/sandbox/profiles.toml);
    ``openid`` says the issuer is an OpenID provider (its ``oidc`` setting), and
    ``extensions`` what else it offers beyond RFC 6749 (``Provider``), and
    ``grants`` the extension grants its metadata lists besides the lab's usual
    ones (token exchange, RFC 8693).
    Where it takes no client secret (``auth_methods``, FAPI 2.0), the lab's demo
    apps cannot introspect or revoke there: no such endpoints are offered.

    The browser goes to the public address; the app's own calls go to the private
    back-channel listener when one runs (see ``flowlab.serving``).
    """
    base = (config.get("SANDBOX_URL") or base_url).rstrip("/") + path
    private = config.get("SANDBOX_BACKCHANNEL_URL")
    mounted = private and not config.get("SANDBOX_URL")
    back = private.rstrip("/") + path if mounted else base
    web, public = demo_apps(config)
    return Provider(
        kind="sandbox", name=name, sandbox_path=path, issuer=base, openid=openid,
        iss_supported=True, authorize_url=base + "/authorize",
        token_url=back + "/api/token", api_base=back,
        expire_url=back + "/demo/expire-token",
        device_authorization_url=back + "/api/device",  # RFC 8628; not in Spotify
        grant_revocation=True,  # and RFC 7662, RFC 7009, as its metadata says:
        introspection_url=back + "/api/introspect" if secrets_accepted else None,
        revocation_url=back + "/api/revoke" if secrets_accepted else None,
        # What its metadata lists (sandbox/metadata): every flow of the lab runs here.
        grant_types=("authorization_code", "client_credentials", "refresh_token",
                     "implicit", DEVICE_GRANT, *grants),
        response_types=("code", "token"), extensions=extensions,
        clients={"confidential": web.client_id, "public": public.client_id,
                 "device": device_app(config).client_id},
    )


def here(provider: Provider, config: Mapping) -> Provider:
    """A run's provider as this process reaches it.

    A sandbox run stores the back-channel address of the process that started it;
    behind a load balancer the next step may run on another process or machine,
    whose own private listener is the one to call. Browser-facing URLs stay as the
    run began.
    """
    if not provider.is_sandbox:
        return provider
    path = provider.sandbox_path or "/sandbox"
    fresh = sandbox(provider.issuer.removesuffix(path), config, path)
    return replace(provider, token_url=fresh.token_url, api_base=fresh.api_base,
                   expire_url=fresh.expire_url,
                   device_authorization_url=fresh.device_authorization_url,
                   introspection_url=provider.introspection_url
                   and fresh.introspection_url,
                   revocation_url=provider.revocation_url and fresh.revocation_url)


def spotify(profile: dict, config: Mapping, client_id: str) -> Provider:
    """Real Spotify (base URLs overridable, so tests can point at a stand-in)."""
    accounts = (config.get("SPOTIFY_ACCOUNTS_URL") or profile["accounts"]).rstrip("/")
    return Provider(
        kind="spotify", name=profile["name"],
        authorize_url=accounts + profile["authorize_path"],
        token_url=accounts + profile["token_path"],
        api_base=(config.get("SPOTIFY_API_URL") or profile["api"]).rstrip("/"),
        clients={"confidential": client_id, "public": client_id},
        refused=dict(profile.get("refused", {})),
    )


def manual(issuer: str, authorize_url: str, token_url: str, api_base: str,
           clients: tuple[str, str], scope: str, *, hosts: LabHosts) -> Provider:
    """A profile from endpoints typed in; ``clients`` is (confidential, public) ids;
    no URL may be on one of the lab's ``hosts``."""
    client_id, public_id = clients
    if issuer:
        check_url(issuer, "The issuer", hosts)
    check_url(authorize_url, "The authorization endpoint", hosts)
    check_url(token_url, "The token endpoint", hosts)
    if api_base:
        check_url(api_base, "The API base URL", hosts)
    if not client_id:
        raise ProviderError("A client id is needed.")
    return Provider(
        kind="discovered", name=f"Provider at {issuer or authorize_url}",
        issuer=issuer or None, authorize_url=authorize_url, token_url=token_url,
        api_base=api_base.rstrip("/") or None, scope=scope,
        clients={"confidential": client_id, "public": public_id or client_id},
    )


# What a profile that lists nothing is taken to support: RFC 8414 §2's default
# grants plus the client credentials grant; any response type; any PKCE method.
DEFAULTS = {"grant_types": ("authorization_code", "client_credentials")}
ORDER = ("profile", "grant_types", "response_types", "pkce_methods", "extensions",
         "clients", "secret")


def is_sandbox(provider: Provider) -> bool:
    """Whether the profile is the embedded sandbox, whose secrets are demo values."""
    return provider.is_sandbox


def supports(provider: Provider, need, has_secret: bool) -> bool:
    """Whether the provider meets one of a flow's requirements (``Requirement``)."""
    if need.field == "secret":
        return has_secret or is_sandbox(provider)  # the sandbox's come from demo
    if need.field == "profile":  # the profile names it: ``openid``...
        return provider.has(need.value)
    listed = getattr(provider, need.field)
    listed = DEFAULTS.get(need.field) if listed is None else listed
    return listed is None or need.value in listed


def offered(provider: Provider, has_secret: bool, reasons: dict, flows) -> dict:
    """Each flow id with None if it can run here, or the reason it cannot: the first
    requirement the flow declares (``runner.registry``) that the provider misses."""
    result = {}
    for flow in flows:
        needs = sorted(flow.requirements(), key=lambda n: ORDER.index(n.field))
        missing = next((n for n in needs if not supports(provider, n, has_secret)),
                       None)
        result[flow.id] = missing and (reasons.get(missing.reason) or (
            f"the provider does not list {missing.value} in its {missing.field}."))
    result.update(provider.refused)
    return result


def client_secret(provider: Provider, client: str, config: Mapping,
                  stored: str | None = None) -> str | None:
    """The secret of the provider's ``client`` ("confidential" or "public")."""
    if client != "confidential":
        return None
    if is_sandbox(provider):
        return demo_apps(config)[0].client_secret
    return stored


def check_url(url: str, what: str, hosts: LabHosts) -> None:
    """Refuse a provider URL that is not https (or plain http on loopback), or is
    on one of the lab's own ``hosts``."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        # urlsplit drops line breaks and tabs silently; what is kept must be clean.
        raise ProviderError(f"{what} cannot contain spaces, line breaks or control "
                            "characters.")
    try:
        allowed = bool(url) and allows_plain_http(url, hosts.public_url)
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket, ...)
        allowed = False
    if not allowed:
        raise ProviderError(f"{what} must be an https URL (plain http only on a "
                            f"loopback address such as 127.0.0.1): {url!r}")
    host = urlsplit(url).hostname or ""
    if host in hosts.names:
        raise ProviderError(
            f"{what} is on the lab's own host ({host}). A browser sends a host's "
            "cookies to all of its ports, so that provider would get this lab's "
            "session. Run it on another address: every 127.x.y.z is this machine "
            "too, so 127.0.0.2 or 127.0.0.3 works (make sandbox serves a second "
            "sandbox on 127.0.0.3).")
