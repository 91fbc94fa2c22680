# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The pages' npm packages (pinned by package-lock.json), vendored into the static files.
FRONTEND := supervisor_ui/static/vendor/.installed

.PHONY: run test lint unit integration e2e bench clean system-deps

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(FRONTEND): package.json package-lock.json supervisor_ui/vendor.mjs
	bash scripts/ensure_system_deps.sh frontend
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	@touch $(FRONTEND)

## Start the whole product on embedded defaults (SQLite, in-process broker and timers, demo data).
run: $(STAMP) $(FRONTEND)
	$(BIN)/fieldline run

## Set up and run the whole suite: lint, import contracts, unit, integration and end-to-end tests.
test: $(STAMP) system-deps $(FRONTEND) lint
	$(BIN)/python -m pytest

system-deps:
	@bash scripts/ensure_system_deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP) system-deps
	$(BIN)/python -m pytest tests/integration

e2e: $(STAMP) system-deps $(FRONTEND)
	$(BIN)/python -m pytest tests/e2e

## Every benchmark next to its peer (Django Channels, python-socketio, a bare INSERT, sweep-only timers).
bench: $(STAMP) system-deps
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
	rm -rf node_modules supervisor_ui/static/vendor/*.js supervisor_ui/static/vendor/versions.json $(FRONTEND)
