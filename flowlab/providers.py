"""Provider profiles: where a flow's requests go, and as which client.

A profile is plain data kept with a run. Client secrets are never part of it: the
sandbox's come from ``flowlab.demo`` when a request is made.
"""

from __future__ import annotations

from flask import Config

from .demo import demo_apps


def sandbox(base_url: str, config: Config) -> dict:
    """The embedded sandbox, reached over HTTP at ``base_url`` (or SANDBOX_URL).

    The browser goes to the public address; the app's own calls go to the private
    back-channel listener when one runs (see ``flowlab.serving``).
    """
    base = (config.get("SANDBOX_URL") or base_url).rstrip("/") + "/sandbox"
    private = config.get("SANDBOX_BACKCHANNEL_URL")
    mounted = private and not config.get("SANDBOX_URL")
    back = private.rstrip("/") + "/sandbox" if mounted else base
    web, public = demo_apps(config)
    return {
        "kind": "sandbox",
        "name": "Sandbox provider",
        "issuer": base,
        "iss_supported": True,
        "authorize_url": base + "/authorize",
        "token_url": back + "/api/token",
        "api_base": back,
        "expire_url": back + "/demo/expire-token",
        "clients": {"confidential": web.client_id, "public": public.client_id},
    }


def client_secret(provider: dict, client: str, config: Config) -> str | None:
    """The secret of the provider's ``client`` ("confidential" or "public")."""
    if client != "confidential":
        return None
    if provider["kind"] == "sandbox":
        return demo_apps(config)[0].client_secret
    return None
