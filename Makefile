# Two entry points: `make demo` (set up, then super-resolve the bundled example) and
# `make test` (set up, then run the test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

# zssr itself is installed editable (no copy: the venv imports this checkout), so scripts and
# examples anywhere can `import zssr` with .venv/bin/python.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements-dev.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python examples/demo.py

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests

lint: $(BIN)/.installed
	$(BIN)/ruff check zssr tests benchmarks examples scripts run_zssr.py

clean:
	rm -rf demo_output .pytest_cache .ruff_cache build zssr.egg-info
