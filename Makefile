# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit integration e2e bench clean system-deps

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Start the whole product on embedded defaults (SQLite, in-process broker and timers, demo data).
run: $(STAMP)
	$(BIN)/fieldline run

## Set up and run the whole suite: lint, import contracts, unit, integration and end-to-end tests.
test: $(STAMP) system-deps lint
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

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
