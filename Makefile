# Squall: `make run` serves the demo, `make test` runs the whole suite.
# Both set themselves up: a virtualenv in .venv, and (for the browser test) Chromium.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COVERAGE_DIR := build/coverage
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint types layers pytest browser bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m demo

lint: $(STAMP)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check

types: $(STAMP)
	$(VENV)/bin/mypy src

layers: $(STAMP)
	$(VENV)/bin/lint-imports

browser:
	sh tools/ensure-chromium.sh

# Coverage for real: `coverage run` starts before pytest loads squall's plugin (which
# imports squall), follows the run_app subprocesses ([tool.coverage.run] patch), and
# measures branches. The per-file table: .venv/bin/coverage report (same COVERAGE_FILE).
pytest: export COVERAGE_FILE := $(CURDIR)/$(COVERAGE_DIR)/data
pytest: $(STAMP) browser
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage combine -q
	$(PY) -m coverage json -q -o $(COVERAGE_DIR)/coverage.json
	$(PY) tools/coverage_summary.py $(COVERAGE_DIR)/coverage.json

test: lint types layers pytest

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info
