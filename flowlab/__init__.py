"""OAuth Flow Lab: choose an OAuth 2.0 flow, then watch it run on the wire."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from flowlab.core import ROOT
from flowlab.core import tomlcache
from flowlab.web.rules import LazyRule


def create_app(
    test_config: dict | None = None, instance_path: str | None = None
) -> Flask:
    """Build the app: defaults, then ``FLOWLAB_*`` environment, then ``test_config``."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.url_rule_class = LazyRule  # url_for's builders compiled on first use
    app.config.from_mapping(
        # Where prose and data live (lessons, decision table, flows, glossary).
        CONTENT_DIR=str(ROOT / "content"),
        # One database for all state (FLOWLAB_DATABASE_URL), e.g. to share it between
        # app servers: postgresql://user@host/flowlab. Unset: the two SQLite files
        # below, under the instance folder unless set (flowlab/core/storage/db.py).
        DATABASE_URL=None,
        SANDBOX_DATABASE=os.path.join(app.instance_path, "sandbox.sqlite3"),
        RUNS_DATABASE=os.path.join(app.instance_path, "runs.sqlite3"),
        # Serve only the sandbox provider (a second origin: `app.py --sandbox-only`).
        SANDBOX_ONLY=False,
        # Lifetimes in seconds: authorization codes, access tokens, runs.
        SANDBOX_CODE_TTL=600,
        SANDBOX_TOKEN_TTL=3600,
        RUN_TTL=86400,
        # Exercises: seconds an attempt (and its sandbox app) lives, and attempts one
        # client address may start an hour (never fewer than 50: a room shares one).
        EXERCISE_ATTEMPT_TTL=86400,
        EXERCISE_ATTEMPTS_PER_HOUR=500,
        # Failed client authentications allowed per client and address a minute.
        SANDBOX_AUTH_FAILURES_PER_MINUTE=60,
        # Open dynamic registrations (RFC 7591) allowed per address a minute (>= 10).
        SANDBOX_REGISTRATIONS_PER_MINUTE=30,
        # The device grant (RFC 8628): the codes' lifetime and first polling interval
        # in seconds, and wrong user codes allowed per address a minute (§5.1).
        SANDBOX_DEVICE_TTL=600,
        SANDBOX_DEVICE_INTERVAL=5,
        SANDBOX_USER_CODE_FAILURES_PER_MINUTE=5,
        # Seconds the runner waits for each read from a provider, and for a whole
        # answer (a provider trickling bytes cannot hold a worker longer).
        HTTP_TIMEOUT=5,
        HTTP_DEADLINE=20,
        # A presenter's default provider for every browser: FLOWLAB_PROVIDER=spotify
        # with FLOWLAB_CLIENT_ID (and FLOWLAB_CLIENT_SECRET). Unset: the sandbox.
        PROVIDER=None,
        # Let browsers on other machines set up "any provider" (which makes this
        # server fetch the URLs they type). Off: only this machine may.
        REMOTE_CUSTOM_PROVIDERS=False,
        # The address attendees open in workshop mode, e.g. http://192.168.1.20:5000.
        PUBLIC_URL=None,
        # Largest request body in bytes: at the OAuth endpoints (/sandbox/api/*,
        # /sandbox/authorize), and anywhere else; a bigger one gets 413.
        OAUTH_MAX_CONTENT_LENGTH=64 * 1024,
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Session cookie: not readable by scripts, sent on top-level navigations.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.from_prefixed_env("FLOWLAB")
    if test_config:
        app.config.update(test_config)
    _derive_config(app)

    from flowlab.core.storage import db
    from flowlab.web import sandbox
    from flowlab.web import security
    from flowlab.web.connections import AppContextScope

    db.use_scope(AppContextScope())  # a request's connections, kept on flask.g
    security.init_app(app)
    sandbox.init_app(app)
    if not app.config["SANDBOX_ONLY"]:
        from flowlab import labs
        from flowlab import web
        from flowlab.core import runner
        from flowlab.core.services import Services
        from flowlab.core.storage.db import LAB
        from flowlab.web import attacker
        from flowlab.web import decoy
        from flowlab.web import session

        # One services object, built from the config: content, runner, attack labs.
        services = Services.build(app.config, alongside=(attacker, decoy))
        session.init_app(app, services)  # kept on the app; browser id, key, choice
        LAB.init_app(app)  # the lab's tables, migrated (core/storage/migrations)
        runner.quiet_loggers()  # no tokens in requests-oauthlib's debug log
        web.init_app(app)  # the lab's pages and their templates' helpers
        labs.init_app(app, services)  # the attack labs, their clients and issuers
    tomlcache.save()  # the TOML parsed for the first time, kept for the next start
    return app


def _derive_config(app: Flask) -> None:
    """Settings that follow from others: trusted hosts, secret key, cookie name."""
    if app.config.get("TRUSTED_HOSTS") is None:
        # Answer only to the names this lab is reached by: a page elsewhere cannot
        # rebind its own domain to 127.0.0.1 and talk to it (DNS rebinding).
        app.config["TRUSTED_HOSTS"] = _trusted_hosts(app.config.get("PUBLIC_URL"))
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if app.config["SANDBOX_ONLY"] and app.config["SESSION_COOKIE_NAME"] == "session":
        # Cookies ignore ports: keep the standalone sandbox's session apart.
        app.config["SESSION_COOKIE_NAME"] = "flowlab_sandbox"
    if (app.config.get("PUBLIC_URL") or "").startswith("https://"):
        # Over https, a __Host- cookie: Secure, for this host only, path /, so
        # no other host (a sibling domain, plain http) can set or widen it.
        name = app.config["SESSION_COOKIE_NAME"]
        if not name.startswith("__Host-"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-" + (
                "flowlab" if name == "session" else name)
        app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_PATH="/",
                          SESSION_COOKIE_DOMAIN=None)


def _trusted_hosts(public_url: str | None) -> list[str]:
    """Loopback names, plus the presenter's workshop address when one is set."""
    hosts = ["127.0.0.1", "localhost"]
    if public_url and urlsplit(public_url).hostname:
        hosts.append(urlsplit(public_url).hostname)
    return hosts


def _instance_secret(instance_path: str) -> str:
    """Read the secret key kept in the instance folder, making it on first start."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Two servers can start at once on a fresh clone: the key is written whole to a
    # file of this process's own, then linked into place, which fails if the other
    # got there first; the loser reads the winner's key, never a half-written one.
    fd, written = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        os.link(written, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(written)
    return path.read_text().strip()
