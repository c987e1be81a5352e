# The two commands of the README, plus bench and lint.  Each target creates
# .venv on a fresh machine when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench
STAMP_DOCS := $(VENV)/.installed-docs

.PHONY: demo test test-arrays lint bench docs clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@ $(STAMP) $(STAMP_DOCS)

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@ $(STAMP) $(STAMP_TEST)

demo: $(STAMP)
	$(BIN)/numderiv demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The docs build (15-20 s on 2 cores) is part of the test: warnings are errors.
test: lint docs
	$(BIN)/python -m pytest -q

# The array-API tests on PyTorch too (skipped by make test where torch is
# missing).  Only torch 2.13.0 is a CPU build here: any other version pulls a
# multi-GB CUDA build.
test-arrays: $(STAMP_TEST)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pytest -q $(wildcard tests/test_*array_api*.py)

# The fuzz suite (tests/fuzz) with the long Hypothesis profile; it prints the
# number of inputs tried per entry point.
fuzz: $(STAMP_TEST)
	NUMDERIV_FUZZ=1 $(BIN)/python -m pytest -q tests/fuzz -p no:cacheprovider

bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py

$(STAMP_DOCS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@ $(STAMP)

# The documentation site, offline, warnings as errors; -E reads every page and
# docstring again (an incremental build would miss a docstring edited in src).
docs: $(STAMP_DOCS)
	$(BIN)/python -m sphinx -E -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache docs/_build docs/api/generated
