# archreview developer tasks. Each target bootstraps the virtualenv it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.archreview-installed

.PHONY: example test lint typecheck unit snapshots docs check-docs bench package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## example: review the bundled example super-repository against its own agent definition
example: $(STAMP)
	$(BIN)/archreview scan fixtures/repos/chariot-platform --fail-on never

## test: lint, type-check and the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check reviewer tests bench
	$(BIN)/ruff format --check reviewer

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

snapshots: $(STAMP)
	UPDATE_SNAPSHOTS=1 $(BIN)/pytest tests/test_rules.py tests/test_example_repo.py

docs: $(STAMP)
	$(BIN)/python -m reviewer.outputs.ruledocs write

check-docs: $(STAMP)
	$(BIN)/python -m reviewer.outputs.ruledocs check

bench: $(STAMP)
	$(BIN)/python bench/run.py

package: $(STAMP)
	$(BIN)/python -m build --wheel --outdir dist

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
