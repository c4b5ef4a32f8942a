# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
FUZZ_MINUTES ?= 10

.PHONY: run test test-rasa rasa bench fuzz lint install install-dev clean

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

## make rasa: Rasa in its own Python 3.10 environment, trained on Chatcart's NLU data,
## serving on http://127.0.0.1:5005; run Chatcart with RASA_URL set to that (rasa/rasa.sh)
rasa: install
	CHATCART=$(BIN)/chatcart rasa/rasa.sh serve

## make test-rasa: Chatcart against a real Rasa server (opt-in: minutes and gigabytes);
## skipped, saying why, where no Python 3.10 is found
test-rasa: install-dev
	CHATCART=$(BIN)/chatcart rasa/rasa.sh env || [ $$? -eq 3 ]
	CHATCART_RASA_TESTS=1 $(BIN)/pytest -p no:cacheprovider -rs tests/rasa

## make bench: the figures (not timed tests); writes bench/results/latest.json
bench: install-dev
	$(BIN)/python -m bench

## make fuzz: the long fuzz campaign (FUZZ_MINUTES, 10 by default) against a real
## `chatcart demo` server with every channel and gateway on (their doubles); prints
## requests sent, statuses seen and the 5xx count (tests/fuzz/__main__.py)
fuzz: install-dev
	$(BIN)/python -m tests.fuzz --minutes $(FUZZ_MINUTES)

lint: install-dev
	$(BIN)/ruff check bot core admin_web tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
