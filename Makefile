# The two commands a newcomer needs: `make demo` and `make test`. Both create or reuse
# .venv, so a fresh clone needs nothing but Python 3.11 and this machine's services.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast bench lint typecheck venv clean lock audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/isthmus demo --once

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --timeout=600 -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

# The exact versions of every dependency (runtime and dev) this tree is tested with.
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable > requirements.lock

# Known vulnerabilities in the locked versions (needs the vulnerability service of PyPI
# or OSV, so it is not part of `lint`, which must pass offline). --strict: a package that
# could not be checked fails the audit instead of passing silently.
audit: $(STAMP)
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --strict \
		--progress-spinner off

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
