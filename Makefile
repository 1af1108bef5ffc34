# The README's commands. Each target bootstraps its own virtual environment:
# `make run` installs what the server needs; the test and tooling targets add the dev tools.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
VERIFIER_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' verifier/pyproject.toml)

export LEDGER_DATA_DIR ?= ./var

.PHONY: run test unit integration e2e lint typecheck bench bench-scale verifier docs clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the verifier is its own distribution (./verifier); the server depends on it
$(RUN_STAMP): pyproject.toml verifier/pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ./verifier -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e ./verifier -e '.[dev]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/ledger demo --if-empty
	@echo
	@echo "crm-ledger is starting at http://127.0.0.1:8000"
	@echo "  API docs:      http://127.0.0.1:8000/api/v1/docs"
	@echo "  OpenAPI:       http://127.0.0.1:8000/api/v1/openapi.json"
	@echo "  a token:       LEDGER_DATA_DIR=$(LEDGER_DATA_DIR) $(BIN)/ledger token issue --role compliance_officer --subject you"
	@echo "  stop with Ctrl-C"
	@echo
	$(BIN)/ledger serve --host 127.0.0.1 --port 8000

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy domain security projections scheduler web demo verifier/ledger_verify

# the whole suite, with coverage; the floor sits just under the measured figure
test: $(DEV_STAMP) lint typecheck
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

COVERAGE_FLOOR ?= 94

unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -m unit -q

integration: $(DEV_STAMP)
	$(BIN)/python -m pytest -m integration -q

e2e: $(DEV_STAMP)
	$(BIN)/python -m pytest -m e2e -q

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

# how costs grow: one PostgreSQL store grown to LEDGER_SCALE_SIZES (default 1M,3M,10M: hours)
bench-scale: $(DEV_STAMP)
	$(BIN)/python -m benchmarks scale

# the regulator's verifier: a wheel and a single-file zipapp (needs only `cryptography`)
verifier: $(RUN_STAMP)
	rm -rf build/verifier-zipapp dist/ledger-verify.pyz
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist ./verifier
	mkdir -p build/verifier-zipapp
	cp -r verifier/ledger_verify build/verifier-zipapp/
	find build/verifier-zipapp -name __pycache__ -prune -exec rm -rf {} +
	$(BIN)/python -m zipapp build/verifier-zipapp --compress \
		--main ledger_verify.cli:run --python "/usr/bin/env python3" \
		--output dist/ledger-verify.pyz
	@echo "dist/crm_ledger_verify-$(VERIFIER_VERSION)-py3-none-any.whl and dist/ledger-verify.pyz"

# docs/cli.md is generated from the commands themselves (tests check it is current)
docs: $(RUN_STAMP)
	$(BIN)/python -m web.cli.reference > docs/cli.md

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache .coverage
