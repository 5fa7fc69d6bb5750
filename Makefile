# Every target sets itself up on a fresh machine: it creates .venv and installs
# the project with its extras, once (the stamp is rebuilt when pyproject changes).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean setup

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m harness compare --users 20

lint: $(STAMP)
	$(BIN)/ruff check harness mock_gemini reports scenarios tests
	$(BIN)/ruff format --check harness mock_gemini reports scenarios tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -q --benchmark-enable --benchmark-only --benchmark-json=runs/benchmark.json

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
