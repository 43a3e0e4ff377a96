# Set-up and checks for the guarantee ledger. Needs only Python >= 3.11 and the
# package registry: every target makes .venv and installs into it as needed.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
# $(call pip_of,DIR): pip of the virtual environment in DIR.
pip_of = $(1)/bin/python -m pip --disable-pip-version-check
PIP := $(call pip_of,$(VENV))
# Installs are redone only when pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-run
PEER_VENV := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed-peer
PYTEST_FLAGS ?= -q -p no:cacheprovider

.PHONY: help run test lint bench soak clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

# $(call new_venv,DIR): a virtual environment in DIR on a Python new enough.
define new_venv
	@if [ -z "$(PYTHON)" ]; then echo "error: no python3.11 or python3 on PATH" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
		"error: the ledger needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(1)
	@# A fresh venv's pip can be too old for pyproject-only editable installs.
	$(call pip_of,$(1)) install --quiet --upgrade pip
endef

$(BIN)/python:
	$(call new_venv,$(VENV))

# The benchmark measures the ledger as it is deployed: with its runtime
# dependencies only. The dev extras bring in rich, which structlog then loads
# into every ledger process (5 MB more in each, replay included).
$(BENCH_STAMP): pyproject.toml | $(BENCH_VENV)/bin/python
	$(call pip_of,$(BENCH_VENV)) install -e .
	@touch $@

$(BENCH_VENV)/bin/python:
	$(call new_venv,$(BENCH_VENV))

# The peer measured beside the ledger (bench/peer.py) has its own environment, so the
# ledger's processes never load it.
$(PEER_STAMP): bench/peer-requirements.txt | $(PEER_VENV)/bin/python
	$(call pip_of,$(PEER_VENV)) install -r bench/peer-requirements.txt
	@touch $@

$(PEER_VENV)/bin/python:
	$(call new_venv,$(PEER_VENV))

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP) ## install and start the service (embedded PostgreSQL unless LEDGER_DATABASE_URL)
	$(BIN)/ledger serve

lint: $(DEV_STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint ## lint, then the test suite (all but the slow soaks)
	@if [ -z "$${LEDGER_TEST_DSN:-}" ] && $(BIN)/python -c 'import socket; \
		socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()' 2>/dev/null; then \
		echo "note: a PostgreSQL answers at 127.0.0.1:5432 but LEDGER_TEST_DSN is unset, so the"; \
		echo "      tests bring their own; to use it: export LEDGER_TEST_DSN=postgresql://postgres@127.0.0.1:5432/postgres"; \
	fi
	$(BIN)/pytest $(PYTEST_FLAGS) -m "not slow"

bench: $(BENCH_STAMP) $(PEER_STAMP) ## throughput, latency and CPU beside raw PostgreSQL and a peer (BENCH_ARGS=--peers-only)
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

soak: $(DEV_STAMP) ## the long fault and concurrency tests (marked slow)
	$(BIN)/pytest $(PYTEST_FLAGS) -m slow

clean: ## remove .venv, .venv-bench, .venv-peer, caches and builds (keeps .ledger-data, the embedded store)
	rm -rf $(VENV) $(BENCH_VENV) $(PEER_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
