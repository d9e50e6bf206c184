# Two entry points: `make demo` (set up, then super-resolve the bundled example) and
# `make test` (set up, then run the test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean devpack

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
	$(BIN)/ruff check zssr tests benchmarks examples run_zssr.py

# What scripts/device_finetune.sh needs on a lent GPU machine (Python 3.12, JAX, no Keras):
# the training set as lossless WebP (fits the 64 MiB that travel with the repository) and the
# Keras wheels. Both folders are git-ignored; the device call names them in `carry`.
DATA ?= ../shared/data/train
KERAS_VERSION = $(shell $(BIN)/python -c "import keras; print(keras.__version__)" 2>/dev/null)
devpack: $(BIN)/.installed
	test -d .devpack/train || $(BIN)/python -m zssr.baselines.pack --hr-dir $(DATA) \
		--out .devpack/train --max-mib 36
	rm -rf .whl && $(BIN)/python -m pip download -q --no-deps --only-binary=:all: \
		--python-version 3.12 --implementation cp --platform manylinux_2_17_x86_64 \
		--platform manylinux2014_x86_64 -d .whl keras==$(KERAS_VERSION) namex optree
	du -sh .devpack .whl

clean:
	rm -rf demo_output .pytest_cache .ruff_cache build zssr.egg-info .devpack .whl
