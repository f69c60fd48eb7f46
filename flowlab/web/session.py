"""What a browser brings with each request: its random id, its sealing key cookie,
and its provider choice; and the lab's services and config, from the app.

Views build the inputs of the Flask-free modules here, and read the app nowhere
else: ``secret_box()`` is the ``SecretBox`` a run's secrets are sealed in, for this
browser, with its key; ``lab_hosts()`` where the lab is reached.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from urllib.parse import urlsplit

from flask import Config
from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask import session

from flowlab.core import backchannel
from flowlab.core import publicurl
from flowlab.core import vault
from flowlab.core.content import Content
from flowlab.core.credentials import Choice
from flowlab.core.providers import LabHosts
from flowlab.core.runner.orchestrate import Runner
from flowlab.core.secrets import KEY_BYTES
from flowlab.core.secrets import SecretBox
from flowlab.core.services import Services

COOKIE = "flowlab_key"
EXTENSION = "flowlab"  # app.extensions key of the services


def init_app(app: Flask, services: Services) -> None:
    """Keep the services on the app; hand a new sealing key to its browser."""
    app.extensions[EXTENSION] = services
    app.after_request(_set_cookie)


def app_config() -> Config:
    """The app's config: for views, which pass what they need on as arguments."""
    return current_app.config


def current_app_itself() -> Flask:
    """The app serving this request, itself: the key of a per-app store."""
    return current_app._get_current_object()


def note_missing_backchannel() -> None:
    """Say once that this process has no back channel (``flowlab.core.backchannel``)."""
    backchannel.note_missing(current_app._get_current_object())


def services(app: Flask | None = None) -> Services:
    """The lab's services (``flowlab.core.services``), of ``app`` or the current app."""
    return (app or current_app).extensions[EXTENSION]


def runner() -> Runner:
    return services().runner


def get_content() -> Content:
    """The lab's content: prose and data (``flowlab.core.content``)."""
    return services().content


def exercise_catalogue() -> dict:
    """The exercises (``flowlab.exercises``), loaded once by ``web.exercises``."""
    return services().exercises


def lab_hosts() -> LabHosts:
    """The host names this lab is reached by, and its public URL: a provider on
    one of them would get the lab's cookies (``flowlab.core.providers``)."""
    config = current_app.config
    names = {h.lower() for h in config.get("TRUSTED_HOSTS") or []}
    if request:
        names.add((urlsplit(request.host_url).hostname or "").lower())
    public = config.get("PUBLIC_URL")
    if public:
        names.add((urlsplit(public).hostname or "").lower())
    return LabHosts(frozenset(names - {""}), public)


def addresses(run=None) -> publicurl.Addresses:
    """The public address (``FLOWLAB_PUBLIC_URL``, else the one this browser used)
    and the private back channel's, for ``run`` (``flowlab.core.publicurl``)."""
    config = current_app.config
    public = (config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return publicurl.addresses(run, public, config.get("SANDBOX_BACKCHANNEL_URL"))


def browser_id(create: bool = False) -> str | None:
    """This browser's random id, which its runs and its provider choice hang on."""
    if create and "browser" not in session:
        session["browser"] = secrets.token_urlsafe(16)
    return session.get("browser")


def secret_box() -> SecretBox | None:
    """The box this browser's run secrets are sealed in; None without a browser."""
    browser = browser_id()
    return _box(browser) if browser else None


def cookie_name() -> str:
    """``__Host-flowlab_key`` over https: Secure, this host only, path /."""
    return "__Host-" + COOKIE if _secure() else COOKIE


def browser_key(create: bool = False) -> bytes | None:
    """This browser's key from its cookie; a new one (sent back) if asked to."""
    if "flowlab_key" not in g:
        g.flowlab_key = _decode(request.cookies.get(cookie_name(), ""))
    if g.flowlab_key is None and create:
        g.flowlab_key = g.flowlab_new_key = os.urandom(KEY_BYTES)
    return g.flowlab_key


def get_choice(browser: str | None) -> Choice | None:
    """The browser's provider choice, its client secret unsealed; read once a
    request."""
    if not browser:
        return None
    if g.get("flowlab_choice", (None,))[0] != browser:
        found = vault.get_choice(browser)
        choice = found and Choice(found[0], _box(browser).unseal(
            found[1], f"choice {browser}"))
        g.flowlab_choice = (browser, choice)
    return g.flowlab_choice[1]


def put_choice(browser: str, choice: Choice) -> None:
    """Keep the browser's choice, its client secret sealed for it."""
    sealed = None
    if choice.secret is not None:
        sealed = _box(browser).seal(choice.secret, f"choice {browser}")
    vault.put_choice(browser, choice.provider, sealed)
    g.flowlab_choice = (browser, choice)


def forget_choice(browser: str | None) -> None:
    """The choice and the secrets of every run of this browser."""
    if browser:
        vault.forget(browser)
    g.pop("flowlab_choice", None)


def _box(browser: str) -> SecretBox:
    return SecretBox(browser, browser_key(), current_app.config["SECRET_KEY"],
                     lambda: browser_key(create=True))


def _decode(text: str) -> bytes | None:
    try:
        key = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _set_cookie(response):
    key = g.pop("flowlab_new_key", None)
    if key is not None:  # a browser cookie (no expiry): gone when the browser closes
        response.set_cookie(
            cookie_name(), base64.urlsafe_b64encode(key).decode().rstrip("="),
            path="/", secure=_secure(), httponly=True, samesite="Lax")
    return response
