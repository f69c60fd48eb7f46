"""The sandbox's demo apps, known to both the sandbox and the runner.

The runner never imports the sandbox: both derive the demo apps' credentials from the
app's secret key, so a standalone sandbox sharing the instance folder (and so the key)
offers the same apps. The secrets are random to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

# Registered without a port: a loopback literal may vary it (RFC 8252 §7.3).
LOOPBACK_CALLBACKS = ("http://127.0.0.1/run/callback", "http://[::1]/run/callback")
CALLBACK_PATH = "/run/callback"


@dataclass(frozen=True)
class DemoApp:
    client_id: str
    client_secret: str | None
    name: str
    confidential: bool
    response_types: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]


def _derive(config: Mapping, label: str, size: int) -> str:
    key = config["SECRET_KEY"].encode()
    return hmac.new(key, label.encode(), hashlib.sha256).hexdigest()[:size]


def redirect_uris(config: Mapping) -> tuple[str, ...]:
    """Loopback callbacks, plus the presenter's workshop address if one is set."""
    public = config.get("PUBLIC_URL")
    extra = (public.rstrip("/") + CALLBACK_PATH,) if public else ()
    return LOOPBACK_CALLBACKS + extra


def demo_apps(config: Mapping) -> tuple[DemoApp, DemoApp]:
    """The confidential web app and the public (PKCE, implicit) browser app."""
    uris = redirect_uris(config)
    web = DemoApp(
        client_id=_derive(config, "demo-web-client-id", 32),
        client_secret=_derive(config, "demo-web-client-secret", 32),
        name="Flow Lab web app (demo)",
        confidential=True,
        response_types=("code",),
        grant_types=("authorization_code", "refresh_token", "client_credentials"),
        redirect_uris=uris,
    )
    spa = DemoApp(
        client_id=_derive(config, "demo-public-client-id", 32),
        client_secret=None,
        name="Flow Lab browser app (demo)",
        confidential=False,
        response_types=("code", "token"),
        grant_types=("authorization_code", "refresh_token", "implicit"),
        redirect_uris=uris,
    )
    return web, spa


# RFC 8628 §3.4: the grant type a device polls the token endpoint with.
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_app(config: Mapping) -> DemoApp:
    """The public TV app: the device grant (RFC 8628; not in Spotify), no redirects."""
    return DemoApp(
        client_id=_derive(config, "demo-device-client-id", 32),
        client_secret=None,
        name="Flow Lab TV app (demo)",
        confidential=False,
        response_types=(),
        grant_types=(DEVICE_GRANT, "refresh_token"),
        redirect_uris=(),
    )


def all_demo_apps(config: Mapping) -> tuple[DemoApp, ...]:
    """Every demo app the sandbox seeds: the web, browser and TV apps."""
    return (*demo_apps(config), device_app(config))
