# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	./scripts/install-system-packages.sh
	$(BIN)/pip install -q -e ".[dev]"

## Install triage and run it on the bundled sample mailbox (SQLite under var/), then show the digest.
demo: install
	$(BIN)/triage demo

## Install everything the tests need (Debian packages included) and run the whole test suite.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
