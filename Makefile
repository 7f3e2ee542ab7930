# The only entry points a newcomer needs. Each target creates .venv when missing and
# installs the locked dependencies (requirements.lock); an unchanged lock does not reinstall.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The embedded default: Prefect's local API with SQLite under var/, no telemetry.
export PREFECT_HOME ?= $(CURDIR)/var/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_LOGGING_LEVEL ?= INFO
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test bench bench-full lint typecheck docs pytest sandbox pki install system-packages clean \
	server test-e2e run-packages

help:
	@echo "make demo    run the main job end to end against the local sandbox"
	@echo "make test    ruff format --check, ruff check, the import rules, mypy, the docs site (--strict), then pytest"
	@echo "make bench   the benchmarks, every case once at smaller sizes (under 10 minutes; var/bench/)"
	@echo "make bench-full  the full set of the README's figures (about 30 minutes)"
	@echo "make sandbox start the provider + gateway sandbox in the foreground"
	@echo "make pki     create (or reuse) the test PKI under var/pki/"
	@echo "make server  Prefect server + UI, a worker, the deployments and the sandbox (Ctrl-C stops)"
	@echo "             options: PORT=4200 WORKERS=1 POSTGRES=1 (a throwaway PostgreSQL database)"
	@echo "make test-e2e only the end-to-end tests (real server, workers, PostgreSQL, Chromium)"
	@echo "make docs    build the documentation site (docs/, mkdocs.yml) into var/site/, --strict"

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target .tools uv==$(UV_VERSION)

$(STAMP): requirements.lock pyproject.toml | $(UV)
	@test -x $(PY) || $(UV) venv --quiet --python python3 $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Debian packages, installed when missing by the targets that need them:
# xmlsec1, the independent verifier the tests use for every signature we make;
# chromium, the browser of the UI tests (Playwright drives /usr/bin/chromium, no download);
# postgresql, the database of the scale-out tests (a throwaway cluster they start themselves);
# poppler-utils (pdfsig, the independent PDF signature verifier; pdftotext, pdftoppm) and
# libnss3-tools (certutil: the NSS database in which pdfsig trusts the test root).
# fonts-dejavu-core, the font of the Vietnamese signature stamp on PDF attachments, is also
# needed at run time (RUN_DEBIAN_PACKAGES: demo, server, bench).
RUN_DEBIAN_PACKAGES := fonts-dejavu-core
TEST_DEBIAN_PACKAGES := xmlsec1 chromium postgresql poppler-utils libnss3-tools $(RUN_DEBIAN_PACKAGES)
system-packages:
	@scripts/ensure-debian-packages $(TEST_DEBIAN_PACKAGES)

run-packages:
	@scripts/ensure-debian-packages $(RUN_DEBIAN_PACKAGES)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The documentation site; --strict (with mkdocs.yml's validation) fails on a broken link or anchor.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir var/site

# Three pytest-xdist workers on two cores: much of the suite waits (servers starting, phones
# approving, workers polling), so a third worker fills the waits. tests/conftest.py keeps a
# module on one worker and tests/e2e/ on one worker (docs/testing.md). Serial:
# make pytest PYTEST_PARALLEL=
PYTEST_PARALLEL ?= -n 3 --dist loadgroup
pytest: install system-packages
	$(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test: lint typecheck docs pytest

demo: install run-packages
	@mkdir -p "$(PREFECT_HOME)"
	$(PY) -m demo

bench: install run-packages
	@mkdir -p "$(PREFECT_HOME)"
	$(PY) -m benchmarks $(BENCH_ARGS)

# The full set the README's figures come from (about 30 minutes on two cores).
bench-full: install run-packages
	@mkdir -p "$(PREFECT_HOME)"
	$(PY) -m benchmarks --full $(BENCH_ARGS)

sandbox: install
	$(PY) -m sandbox $(if $(CONFIG),--config $(CONFIG),)

pki: install
	$(PY) -m sandbox.pki

# A real `prefect server start` on 127.0.0.1 (SQLite under var/server/), a process worker,
# the deployments of deployments/prefect.yaml and the sandbox with the demo units.
server: install run-packages
	@mkdir -p "$(PREFECT_HOME)"
	@$(if $(POSTGRES),scripts/ensure-debian-packages postgresql,true)
	$(PY) -m deployments.server $(if $(PORT),--port $(PORT),) \
	  $(if $(WORKERS),--workers $(WORKERS),) $(if $(POSTGRES),--postgres,)

test-e2e: install system-packages
	$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
