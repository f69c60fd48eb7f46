"""Shared fixtures: the app, the app served on a real port, and a real browser.

Anything that crosses the wire is tested against the app served by waitress on port 0
in a thread, as users and the runner reach it. Browser tests drive Chromium against
that same server; every page they open must log no console error and make no request
outside 127.0.0.1.

Storage: the storage, sandbox and runner modules (``BOTH_BACKENDS``) run twice, on
the SQLite files and on a throwaway PostgreSQL server (``tests/pg_harness.py``), by
a session-scoped ``backend`` parameter that the app fixtures follow; a test marked
``sqlite_only`` (file modes, say) runs once.

Parallel: ``make test`` runs pytest-xdist workers (``-n``, ``--dist loadgroup``).
Session fixtures (the live server, PostgreSQL, oidc-provider, Chromium) start once
per worker, each on ports and folders of its own; a module whose module-scoped
fixture takes another fixture (a server, a folder) runs on one worker, so it is set
up once; ``xdist_group`` keeps together tests that share something else.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from _pytest.nodeid import NodeId
from waitress import create_server

from flowlab import create_app
from flowlab.core.storage.db import dispose
from flowlab.serving import start_backchannel
from flowlab.serving import stop
from flowlab.web import attacker
from flowlab.web import decoy
from tests import browser as browser_support
from tests.oidc_harness import oidc_server  # noqa: F401
from tests.pg_harness import pg_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgresql")


def on_both_backends(module: str) -> bool:
    """The storage, runner, sandbox and labs modules (over HTTP, not in a browser)."""
    name = module.rpartition(".")[2]
    return name in ("test_storage", "test_runner", "test_runner_units",
                    "test_exercises_contract", "test_exercises_store",
                    "test_labs", "test_labs_processes", "test_labs_modern",
                    "test_branch",
                    "test_room_scoreboard", "test_run_import",
                    "test_run_share", "test_runner_wrap_up",
                    "test_runner_exchange", "test_labs_weak_server",
                    "test_labs_weak_api") or (
        name.startswith("test_sandbox_") and not name.endswith("_browser"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on the SQLite backend only")
    config.addinivalue_line("markers", "only_reads: the page fixture gives the "
                            "test process's shared page (conftest.py)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Under ``--dist loadgroup``, a module's tests that share a module-scoped
    fixture built on other fixtures (a served app, runs made on it) stay on one
    worker, which builds it once; so do tests marked ``xdist_group``."""
    for item in items:
        defs = item._fixtureinfo.name2fixturedefs if hasattr(
            item, "_fixtureinfo") else {}
        if not item.get_closest_marker("xdist_group") and any(
                fixturedefs[-1].scope == "module" and fixturedefs[-1].argnames
                for fixturedefs in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        if getattr(config.option, "loadgroup", False):  # set in xdist workers
            _name_group(item)


def _name_group(item) -> None:
    """Name the test's group in its node id, which is what ``loadgroup`` schedules
    by. pytest-xdist 3.8 sets ``item._nodeid``, which pytest 9 no longer reads
    (its node ids are ``item._id``), so its groups would all be scattered."""
    names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get(
        "name", "default")) for mark in item.iter_markers("xdist_group")})
    if names and "@" not in item.nodeid.rpartition("]")[2]:
        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


# Fixtures that give a test an app, so a database: tests without one run once.
APP_FIXTURES = {"app", "client", "live_server", "serve", "sandbox_env", "lab_server",
                "labs_env"}


def pytest_generate_tests(metafunc) -> None:
    if (APP_FIXTURES & set(metafunc.fixturenames)
            and on_both_backends(metafunc.module.__name__)
            and not metafunc.definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request) -> str:
    """Where apps keep their state: "sqlite" (the default) or "postgresql"."""
    return getattr(request, "param", "sqlite")


class _Current:
    """The PostgreSQL server the running test's apps use, if any."""

    pg = None


@pytest.fixture(autouse=True)
def _apps_follow_backend(request, backend) -> Iterator[None]:
    _Current.pg = request.getfixturevalue("pg_server") if (
        backend == "postgresql") else None
    yield
    _Current.pg = None


def database_config(pg=None) -> dict:
    """A fresh PostgreSQL schema for one app, or nothing (SQLite files)."""
    pg = pg or _Current.pg
    return {"DATABASE_URL": pg.schema_url()} if pg else {}


def _share_content() -> None:
    """Parse ``content/`` once per test process instead of once per app.

    Rendering every page and reading every data file is two thirds of what
    ``create_app`` costs, and the suite makes hundreds of apps from one unchanging
    folder. A ``Content`` is never changed once built (it only keeps the diagrams
    it rendered, the same for every app), so apps made from the project's own
    folder share the one real instance; a test that edits a copy of the folder
    (``CONTENT_DIR``) gets its own, parsed as always."""
    from flowlab.core import services
    from flowlab.core.content import Content

    shared: dict[str, Content] = {}

    def content(root) -> Content:
        if Path(root).resolve() != ROOT / "content":
            return Content(root)
        if "own" not in shared:
            shared["own"] = Content(root)
        return shared["own"]

    services.Content = content


_share_content()


def make_app(tmp_path, **config):
    """An app with its own database (SQLite files under ``tmp_path`` or a fresh
    PostgreSQL schema, as the test's ``backend``) and secret key."""
    # Open registration (RFC 7591) is limited per address a minute; every test
    # registers from 127.0.0.1 on the shared servers, so the limit is lifted here
    # and tested on servers of its own (test_sandbox_registration.py).
    settings = {"TESTING": True, "SECRET_KEY": "test-secret-key",
                "SANDBOX_REGISTRATIONS_PER_MINUTE": 10_000,
                **database_config(), **config}
    return create_app(settings, instance_path=str(tmp_path))


class LiveServer:
    """An app served by waitress on a free port in a background thread."""

    def __init__(self, app, threads: int = 8, backchannel: bool = True,
                 host: str = "127.0.0.1") -> None:
        self.app = app
        self.backchannel = start_backchannel(app) if backchannel else None
        self.server = create_server(app, host=host, port=0, threads=threads)
        self.url = f"http://{host}:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path

    def close(self) -> None:
        if not self.thread.is_alive():
            return
        if self.backchannel:
            stop(self.backchannel)
        stop(self.server, self.thread)
        dispose(self.app)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, backend, request) -> Iterator[LiveServer]:
    """The whole app, shared by all tests (each test makes its own data)."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    app = make_app(tmp_path_factory.mktemp("live"), **database_config(pg))
    server = LiveServer(app)
    yield server
    server.close()


@pytest.fixture
def serve(tmp_path) -> Iterator:
    """Serve an app with extra config: ``server = serve(SANDBOX_TOKEN_TTL=2)``."""
    servers: list[LiveServer] = []
    shared = database_config()  # one test's servers share one database, as files

    def start(**config) -> LiveServer:
        server = LiveServer(make_app(tmp_path, **{**shared, **config}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def lab_server(tmp_path) -> Iterator[LiveServer]:
    """An app of its own with the attack labs' attacker listening beside it (a
    module that shares one across its tests defines its own, module-scoped)."""
    server = LiveServer(make_app(tmp_path))
    listener = attacker.start(server.app)
    yield server
    stop(listener)
    server.close()


@pytest.fixture(scope="module")
def labs_site(tmp_path_factory) -> Iterator[LiveServer]:
    """One app for a browser test module of the labs, its runs its own, with the
    attacker (127.0.0.2) and the clickjacking decoy listening beside it."""
    server = LiveServer(make_app(tmp_path_factory.mktemp("labs")))
    listeners = [attacker.start(server.app), decoy.start(server.app)]
    yield server
    for listener in listeners:
        stop(listener)
    server.close()


# Other providers listen on another loopback address than the lab (127.0.0.1): a
# browser sends a host's cookies to every port of it, so the lab refuses endpoints
# on its own host, as it would refuse them in real use.
PROVIDER_HOST = "127.0.0.2"


@pytest.fixture
def fake():
    """A Spotify-like stand-in provider (``tests/standin.py``) on the providers'
    loopback address, for a test to point the lab's Spotify URLs at."""
    from tests import standin

    server = LiveServer(standin.make_standin(), backchannel=False, host=PROVIDER_HOST)
    yield server
    server.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, timeout: float = 30,
             host: str = "127.0.0.1") -> None:
    """Wait until ``process`` listens on ``port``; fail with its output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read())
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold ``name`` (a fixed address, say) against every other process running
    tests here, xdist workers and other runs alike, until the block ends."""
    lock = Path(tempfile.gettempdir()) / f"flowlab-tests-{name}.lock"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


@pytest.fixture
def sandbox_env(tmp_path) -> dict:
    """Environment for standalone sandboxes sharing one database (one SQLite file,
    or one PostgreSQL schema on that backend) and key."""
    env = {**os.environ, "FLOWLAB_SECRET_KEY": "standalone-key",
           "FLOWLAB_SANDBOX_DATABASE": str(tmp_path / "standalone.sqlite3"),
           "FLOWLAB_RUNS_DATABASE": str(tmp_path / "standalone-runs.sqlite3"),
           "FLOWLAB_TRUSTED_HOSTS": f'["{PROVIDER_HOST}"]'}
    env.pop("FLOWLAB_SANDBOX_ONLY", None)
    env.pop("FLOWLAB_DATABASE_URL", None)
    if _Current.pg:
        env["FLOWLAB_DATABASE_URL"] = _Current.pg.schema_url()
    return env


@pytest.fixture
def sandbox_processes(sandbox_env) -> Iterator:
    """Start standalone sandboxes (``app.py --sandbox-only``) on free ports:
    ``urls = sandbox_processes(2)``; they share ``sandbox_env``."""
    processes: list[subprocess.Popen] = []

    def start(count: int = 1) -> list[str]:
        ports = [free_port(PROVIDER_HOST) for _ in range(count)]
        for port in ports:
            processes.append(subprocess.Popen(
                [sys.executable, "app.py", "--sandbox-only", "--host", PROVIDER_HOST,
                 "--port", str(port)],
                cwd=ROOT, env=sandbox_env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True))
        for port, process in zip(ports, processes[-count:], strict=True):
            wait_for(port, process, host=PROVIDER_HOST)
        return [f"http://{PROVIDER_HOST}:{port}" for port in ports]

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain requests session that never follows redirects by itself."""
    with NoRedirects() as session:
        yield session


class NoRedirects(requests.Session):
    """Every request answers with the first response, redirect or not."""

    def request(self, method, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, url, **kwargs)


def outside_loopback(url: str) -> list[str]:
    """``[url]`` if a browser's request for it would leave the lab's addresses."""
    if url.startswith(("data:", "blob:", "about:")):
        return []
    local = urlsplit(url).hostname in ("127.0.0.1", PROVIDER_HOST, "::1")
    return [] if local else [url]


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = browser_support.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser context and page that records console errors and any
    request leaving 127.0.0.1 (which the browser refuses: ``browser.OFFLINE``).
    A test marked ``only_reads`` gets the test process's shared page instead."""
    if request.node.get_closest_marker("only_reads"):
        assert not request.node.get_closest_marker("no_javascript"), "a new context"
        yield from _reading_page(request.getfixturevalue("_reading_context"))
        return
    java_script = not request.node.get_closest_marker("no_javascript")
    context = chromium.new_context(java_script_enabled=java_script)
    page = _watched(context)
    yield page
    context.close()
    assert page.external_requests == [], "pages must not reach outside 127.0.0.1"
    assert page.console_errors == [], "pages must not log console errors"


@pytest.fixture
def provider_page(chromium):
    """A page for runs at oidc-provider, whose own pages load a web font from the
    internet: requests off loopback are aborted (and listed in ``page.outside``),
    and a console error on one of the lab's pages fails the test."""
    context = chromium.new_context()
    page = context.new_page()
    page.outside, page.lab_errors = [], []

    def guard(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "127.0.0.2"):
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda m: m.type == "error" and "127.0.0.1" in page.url
            and page.lab_errors.append(m.text))
    yield page
    context.close()
    assert page.lab_errors == [], "the lab's pages must not log console errors"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item) -> None:
    """Close a test's own browser context before its fixtures are torn down. A
    server fixture set up after ``page`` (``lab_server``, ``serve``) stops before
    it; a request the page still had in flight then (its favicon, after the last
    click) was refused and counted as the page's console error."""
    page = getattr(item, "funcargs", {}).get("page")
    if page is not None and not item.get_closest_marker("only_reads"):
        page.context.close()


def _watched(context):
    """A new page in ``context`` recording console errors and outside requests."""
    page = context.new_page()
    page.console_errors = []
    page.external_requests = []
    def on_console(msg) -> None:
        # A page served with an error status (the 400 of a refused form, the 404
        # of a missing lesson) is what its test asserts on, not a fault in the page.
        own_status = ("the server responded with a status of" in msg.text
                      and msg.location.get("url") == page.url)
        if msg.type == "error" and not own_status:
            page.console_errors.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    context.on("request", lambda request: page.external_requests.extend(
        outside_loopback(request.url)))
    return page


@pytest.fixture(scope="session")
def _reading_context(chromium):
    context = chromium.new_context()
    yield _watched(context)
    context.close()


READING_VIEWPORT = {"width": 1280, "height": 720}  # a new context's, Playwright's


def _reading_page(page) -> Iterator:
    """The shared page for a test marked ``only_reads``: one that opens pages and
    reads them (sets the viewport, colour scheme or cookies, goes to URLs,
    evaluates scripts; no listeners, routes, other pages or JavaScript switched
    off). One context per test process instead of a new one per test, about half
    a second of CPU each. After the test: the same checks as a new context's page,
    then its cookies, storage, viewport and emulated media are put back as new."""
    page.console_errors.clear()
    page.external_requests.clear()
    yield page
    page.evaluate("() => { try { sessionStorage.clear(); localStorage.clear(); }"
                  " catch (e) {} }")
    page.goto("about:blank")  # the test's pages are gone, their events are in
    errors, outside = list(page.console_errors), list(page.external_requests)
    page.context.clear_cookies()
    page.set_viewport_size(READING_VIEWPORT)
    page.emulate_media(media="null", color_scheme="light",
                       reduced_motion="no-preference")
    assert outside == [], "pages must not reach outside 127.0.0.1"
    assert errors == [], "pages must not log console errors"
