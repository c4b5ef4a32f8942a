# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: venv, install, migrate, fill the demo shop, serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/chatcart demo --host $(HOST) --port $(PORT)

## make test: the whole suite (starts throwaway PostgreSQL/Redis when installed)
test: install-dev
	$(BIN)/ruff check bot core admin_web tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

## make bench: the figures (not timed tests); writes bench/results/latest.json
bench: install-dev
	$(BIN)/python -m bench

lint: install-dev
	$(BIN)/ruff check bot core admin_web tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
