# Squall: `make run` serves the demo, `make test` runs the whole suite.
# Both set themselves up: a virtualenv in .venv, and (for the browser test) Chromium.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
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

pytest: $(STAMP) browser
	$(PY) -m pytest

test: lint types layers pytest

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info
