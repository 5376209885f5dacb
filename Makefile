# refundflow — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test test-long lint format bench assets clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed ## create .venv and install refundflow with its dev tools

run: install ## migrate ./refundflow.db, load demo data on the first run, serve on :8000
	$(BIN)/refundflow quickstart --host $(HOST) --port $(PORT)

lint: install ## ruff, format check, mypy, import-linter (the layer rules)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: install ## lint, then the whole suite on SQLite and PostgreSQL
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m tests.tools.ensure_system_deps
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-long: install ## the suite plus the long property and fuzz runs
	REFUNDFLOW_LONG=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -m "long or not long"

bench: install ## throughput and latency against bare baselines; writes bench/results.json
	$(BIN)/python -m bench

assets: ## re-vendor front-end packages from npm into the static folder (committed)
	./frontend/vendor.sh

clean: ## remove the virtualenv and local databases
	rm -rf $(VENV) refundflow.db refundflow.db-wal refundflow.db-shm .pytest_cache .mypy_cache .ruff_cache
