"""The app factory, config layering, and headers every response carries."""

import multiprocessing
import os
import subprocess
import sys

from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import Rule

from flowlab import _instance_secret
from flowlab import create_app
from flowlab.core import ROOT
from flowlab.web.rules import LazyRule


def test_test_config_overrides(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-key"


def test_secret_key_is_made_once_and_kept(tmp_path):
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    second = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    assert len(first) >= 64
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def _read_secret(folder, start, answers) -> None:
    start.wait()
    try:
        answers.put(_instance_secret(folder))
    except OSError as exc:
        answers.put(repr(exc))


def test_processes_starting_together_agree_on_one_secret_key(tmp_path):
    """`make run` and `make sandbox` on a fresh clone start at the same instant: each
    gets the one key, whole, and none fails because the other made the file."""
    context = multiprocessing.get_context("spawn")
    for attempt in range(8):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        start, answers = context.Barrier(6), context.Queue()
        starters = [context.Process(target=_read_secret,
                                    args=(str(folder), start, answers))
                    for _ in range(6)]
        for process in starters:
            process.start()
        keys = {answers.get(timeout=60) for _ in starters}
        for process in starters:
            process.join()
        assert keys == {(folder / "secret_key").read_text()}
        assert len(keys.pop()) == 64


def test_security_headers_on_every_page(live_server, http):
    response = http.get(live_server("/"))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_known_host_names_are_answered(live_server, http):
    assert http.get(live_server("/"), headers={"Host": "evil.example"}).status_code \
        == 400
    assert http.get(live_server("/")).status_code == 200


def test_the_workshop_address_is_a_known_host_name(tmp_path):
    app = create_app({"PUBLIC_URL": "http://192.168.1.20:5000"},
                     instance_path=str(tmp_path))
    client = app.test_client()
    assert client.get("/", base_url="http://192.168.1.20:5000").status_code == 200
    assert client.get("/", base_url="http://10.9.9.9:5000").status_code == 400


def test_every_url_is_built_as_werkzeug_builds_it(app):
    """URL builders are compiled on first use (flowlab.web.rules): each rule still
    builds what werkzeug's own rule builds, with and without extra arguments."""
    rules = list(app.url_map.iter_rules())
    plain = Map([Rule(rule.rule, **rule.get_empty_kwargs()) for rule in rules],
                host_matching=app.url_map.host_matching).bind("127.0.0.1")
    lazy = app.url_map.bind("127.0.0.1")
    assert len(rules) > 200
    assert all(isinstance(rule, LazyRule) for rule in rules[1:])  # [0]: static
    for rule in rules:
        values = {name: 7 if isinstance(rule._converters[name], IntegerConverter)
                  else "a b/é" for name in rule.arguments}
        for extra in ({}, {"next": "/x?y=1&z"}):
            built = lazy.build(rule.endpoint, {**values, **extra})
            assert built == plain.build(rule.endpoint, {**values, **extra})
            assert built.startswith("/")


def test_start_up_loads_no_markdown_nor_pygments(tmp_path):
    """A restart (create_app and the first /) leaves Markdown and Pygments to the
    first page that renders or highlights something (flowlab.core.markup)."""
    code = (
        "import sys\n"
        "from flowlab import create_app\n"
        "app = create_app({'SECRET_KEY': 'k'}, instance_path=sys.argv[1])\n"
        "assert app.test_client().get('/').status_code == 200\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2:])))\n")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("FLOWLAB_")}
    command = [sys.executable, "-c", code, str(tmp_path), "markdown", "pygments"]
    for _ in range(2):  # a new database (Alembic's Mako loads Pygments), a restart
        shown = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=120, check=True)
    assert shown.stdout.strip() == "[]"
