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

.PHONY: help demo test bench lint typecheck pytest sandbox pki install system-packages clean

help:
	@echo "make demo    run the main job end to end against the local sandbox"
	@echo "make test    ruff format --check, ruff check, mypy, then pytest"
	@echo "make bench   the benchmarks (results in var/bench/)"
	@echo "make sandbox start the provider + gateway sandbox in the foreground"
	@echo "make pki     create (or reuse) the test PKI under var/pki/"

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target .tools uv==$(UV_VERSION)

$(STAMP): requirements.lock pyproject.toml | $(UV)
	@test -x $(PY) || $(UV) venv --quiet --python python3 $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) system-packages

# xmlsec1 is the independent verifier the tests use for every signature we make.
system-packages:
	@command -v xmlsec1 >/dev/null || { \
	  echo "installing Debian package xmlsec1 (independent XMLDSig verifier)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: install
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

demo: install
	$(PY) -m demo

bench: install
	$(PY) -m benchmarks

sandbox: install
	$(PY) -m sandbox $(if $(CONFIG),--config $(CONFIG),)

pki: install
	$(PY) -m sandbox.pki

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
