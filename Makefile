# stancewire: two commands on a fresh machine.
#   make demo   set everything up, then run the pipeline on the embedded broker and Redis
#   make test   set everything up, then run the linters, the type checker and the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint constraints clean

setup: $(STAMP)
	@bash scripts/ensure-system-packages

$(STAMP): constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: setup
	$(BIN)/stancewire demo $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Re-pin after changing dependencies in pyproject.toml (needs uv: pip install uv).
constraints:
	uv pip compile --generate-hashes --python-version 3.11 --universal --extra dev \
		pyproject.toml -o constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
