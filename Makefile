# The two set-up commands are `make quickstart` and `make test`; see README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed.stamp

.PHONY: install quickstart test test-sdk-unit test-fast serve dev lint bench-ingest bench-warehouse bench-sdk-delivery fuzz-ingest clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the project and its test tools into $(VENV) (first time: a few minutes)"
	@$(BIN)/pip install -q --disable-pip-version-check -U pip wheel
	@$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

quickstart: $(STAMP)
	@$(BIN)/python -m orchestration.quickstart

test: $(STAMP)
	@bash .ci/ensure-postgres.sh
	@bash .ci/ensure-promtool.sh
	@bash .ci/ensure-browser.sh
	@node --test --test-reporter=spec tests/sdk/unit/
	@$(BIN)/python -m pytest

# the browser SDK's pure parts (queue, backoff, chunking, session, views), without a browser
test-sdk-unit:
	@node --test --test-reporter=spec tests/sdk/unit/

serve: $(STAMP)
	@$(BIN)/python -m ingest_service

dev: $(STAMP)
	@home=$$(realpath -m "$${DAGSTER_HOME:-$${DATA_DIR:-data}/dagster_home}"); mkdir -p "$$home"; \
	  test -f "$$home/dagster.yaml" || cp orchestration/deploy/dagster.local.yaml "$$home/dagster.yaml"; \
	  DAGSTER_HOME="$$home" $(BIN)/dagster dev -w workspace.yaml

lint: $(STAMP)
	@$(BIN)/ruff check ingest_service orchestration tests
	@$(BIN)/ruff format --check ingest_service orchestration tests

bench-ingest: $(STAMP)
	@bash .ci/ensure-postgres.sh
	@$(BIN)/python -m tests.benchmarks.bench_ingest

fuzz-ingest: $(STAMP)
	@bash .ci/ensure-postgres.sh
	@$(BIN)/python -c 'import schemathesis' 2>/dev/null || { echo "==> installing schemathesis"; $(BIN)/pip install -q --disable-pip-version-check -e '.[test,fuzz]'; }
	@$(BIN)/python -m tests.benchmarks.fuzz_ingest

bench-warehouse: $(STAMP)
	@bash .ci/ensure-postgres.sh
	@$(BIN)/python -m tests.benchmarks.bench_warehouse $(ARGS)

# page visits in Chromium ending in navigation, reload or tab close: events tracked vs counted
bench-sdk-delivery: $(STAMP)
	@bash .ci/ensure-browser.sh
	@$(BIN)/python -m tests.benchmarks.bench_sdk_delivery $(ARGS)

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.duckdb.writer.lock data/raw data/reports data/exports data/snapshots data/logs data/dagster_home dbt_project/target dbt_project/logs
