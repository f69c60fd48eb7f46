# OAuth Flow Lab: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
# Processes serving the lab; empty: app.py's default (one per core, at most 4).
WORKERS ?=
# A second, sandbox-only server ("any provider" in README.md): on another loopback
# address than the lab's, since browsers send a host's cookies to all its ports.
SANDBOX_HOST ?= 127.0.0.3
SANDBOX_PORT ?= 5001

.PHONY: run sandbox test lint browser oidc postgres bench bytecode clean

run: $(VENV)/.installed bytecode
	$(PY) app.py --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

sandbox: $(VENV)/.installed bytecode
	$(PY) app.py --sandbox-only --host $(SANDBOX_HOST) --port $(SANDBOX_PORT)

# pytest-xdist workers for `make test`: the suite mostly waits on sockets, browsers
# and sleeps, so more workers than cores pay off (figures in docs/testing.md).
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3

test: $(VENV)/.dev-installed bytecode browser oidc postgres
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

# A Chromium for the browser tests: the system's, else Debian's package, else
# Playwright's own download. tests/browser.py finds whichever is there.
browser:
	@bash tests/install-browser.sh $(PY)

# The pinned oidc-provider for the interop tests (tests/oidc/, npm ci when needed).
oidc:
	@bash tests/install-oidc.sh

# A PostgreSQL server's binaries for the storage tests (tests/pg_harness.py starts
# a throwaway one): the system's, else Debian's package.
postgres:
	@bash tests/install-postgres.sh

# Figures beside issue 24's targets, recorded in bench/RESULTS.md (about 5 minutes).
# BENCH_ARGS passes more options, e.g. BENCH_ARGS=--postgres.
bench: $(VENV)/.dev-installed bytecode
	$(PY) bench/run.py $(if $(WORKERS),--workers $(WORKERS)) $(BENCH_ARGS)

# The project's modules compiled ahead (pip does it for the packages): where the
# environment sets PYTHONDONTWRITEBYTECODE, every start of app.py (each test that
# starts one, each gunicorn master) would otherwise compile them all again.
bytecode: | $(VENV)/bin/python
	@$(PY) -m compileall -q -x node_modules app.py flowlab tests bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
