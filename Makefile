# Every target sets itself up on a fresh machine: it creates .venv and installs
# the project with its extras, once (the stamp is rebuilt when pyproject changes).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench ci-gate baseline clean setup

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m harness compare --users 20

lint: $(STAMP)
	$(BIN)/ruff check --no-cache harness mock_gemini reports scenarios tests benchmarks
	$(BIN)/ruff format --no-cache --check harness mock_gemini reports scenarios tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

# Hot-path micro-benchmarks (tests/benchmarks/bench_*.py): not collected by `make unit`.
bench: $(STAMP)
	mkdir -p runs
	$(BIN)/python -m pytest tests/benchmarks -p no:randomly --benchmark-enable \
		--benchmark-json=runs/benchmark.json -o python_files='bench_*.py'

# The CI regression gate (.ci/run's second half): run the `ci` scenario into runs/ci and
# compare it with the committed baseline. `make baseline` refreshes that baseline (docs/ci.md).
CI_BASELINE := reports/baselines/ci.json

ci-gate: $(STAMP)
	.ci/run gate

baseline: $(STAMP)
	rm -rf runs/ci-baseline
	$(BIN)/python -m harness run scenarios/ci.toml --out runs/ci-baseline --no-report --no-progress
	cp runs/ci-baseline/results.json $(CI_BASELINE)
	@echo "baseline refreshed: $(CI_BASELINE) (commit it)"

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
