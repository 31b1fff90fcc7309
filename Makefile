# Squall: `make run` serves the demo, `make test` runs the whole suite.
# Both set themselves up: a virtualenv in .venv, and (for the browser test) Chromium.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COVERAGE_DIR := build/coverage
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint types layers pytest pytest-newer browser redis bench fuzz clean

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

# tests/sessions start their own redis-server on a free port; this only installs it
redis:
	sh tools/ensure-redis.sh

# Coverage for real: `coverage run` starts before pytest loads squall's plugin (which
# imports squall), follows the run_app subprocesses ([tool.coverage.run] patch), and
# measures branches. The per-file table: .venv/bin/coverage report (same COVERAGE_FILE).
pytest: export COVERAGE_FILE := $(CURDIR)/$(COVERAGE_DIR)/data
pytest: $(STAMP) browser redis
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage combine -q
	$(PY) -m coverage json -q -o $(COVERAGE_DIR)/coverage.json
	$(PY) tools/coverage_summary.py $(COVERAGE_DIR)/coverage.json

test: lint types layers pytest pytest-newer

# The suite again on a newer Python when the machine has one (Squall supports 3.11 and up;
# 3.12 runs handlers as eager Tasks, a different path): a venv per interpreter in
# .venv-<version>, without coverage and the browser tests, which the 3.11 run covers.
# The newest found runs (3.12 and 3.13 both take the eager-Task path 3.11 has not).
NEWER_PYTHONS ?= python3.13 $(sort $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3)) \
	python3.12 $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3))
pytest-newer: browser redis
	@for py in $(NEWER_PYTHONS); do \
		if command -v $$py >/dev/null 2>&1 && $$py -c 'import sys' 2>/dev/null; then \
			v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
			venv=.venv-$$v; \
			echo "== the suite on Python $$v ($$venv)"; \
			test -x $$venv/bin/python || $$py -m venv $$venv || exit 1; \
			test -f $$venv/.installed -a $$venv/.installed -nt pyproject.toml || \
				{ $$venv/bin/python -m pip install -q --upgrade pip && \
				  $$venv/bin/python -m pip install -q -e '.[test]' && touch $$venv/.installed; } || exit 1; \
			$$venv/bin/python -m pytest -p no:cacheprovider --ignore=tests/e2e || exit 1; \
			exit 0; \
		fi; \
	done; echo "== no Python newer than 3.11 here: the suite ran on 3.11 only"

# Squall, aiohttp, the fastest peer (granian + starlette, its own venv in build/; left
# out when it cannot be installed) and the bare httptools + uvloop ceiling, R=3; the
# tables and a chart go to bench/results/bench-<stamp>.{md,json,svg}
BENCH_SERVERS ?= squall aiohttp granian-starlette limit
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	if sh tools/ensure-peers.sh; then servers="$(BENCH_SERVERS)"; \
	else echo "bench: no peer venv, measuring without it" >&2; \
		servers="$(filter-out granian-starlette,$(BENCH_SERVERS))"; fi; \
	$(PY) bench/run.py $$servers

# The atheris targets in fuzz/ (see fuzz/README.md), FUZZ_TIME seconds each; not part
# of `make test`. Corpora stay in build/fuzz between runs, failing inputs go to
# build/fuzz/crashes. One target: make fuzz FUZZ_TARGETS=parser
FUZZ_TIME ?= 120
FUZZ_TARGETS ?= parser protocol values
fuzz: $(STAMP)
	$(PY) -c 'import atheris' 2>/dev/null || $(PY) -m pip install -q atheris
	mkdir -p build/fuzz/crashes
	for target in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/$$target; \
		dict=; [ $$target = values ] || dict=-dict=fuzz/http.dict; \
		$(PY) fuzz/fuzz_$$target.py build/fuzz/$$target $$dict \
			-max_total_time=$(FUZZ_TIME) -artifact_prefix=build/fuzz/crashes/ || exit 1; \
	done

clean:
	rm -rf $(VENV) build src/*.egg-info
