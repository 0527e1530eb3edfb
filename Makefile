# replayvault: `make demo` runs the main job, `make test` runs every test. Both set up a fresh
# machine first (Python venv, npm packages, tracker build, Debian's chromium) and are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TRACKER_OUT := src/replayvault/web/static/replayvault.js
NODE_STAMP := tracker/node_modules/.package-lock.json

.PHONY: setup build chromium demo test test-quick bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): tracker/package.json tracker/package-lock.json
	cd tracker && npm ci --no-audit --no-fund
	touch $@

$(TRACKER_OUT): $(NODE_STAMP) $(wildcard tracker/src/*.js) tracker/build.mjs
	cd tracker && npm run build

build: $(TRACKER_OUT)

# Debian's Chromium renders heatmap backdrops and runs the demo's visitors and the browser tests.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium…"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Chromium is missing; install it with: sudo apt-get install -y chromium"; \
	fi

setup: $(STAMP) build chromium

demo: setup
	$(VENV)/bin/replayvault demo

test: setup
	$(PY) -m pytest

# Quick local loop: skips the slow browser tests (CI runs everything through `make test`).
test-quick: setup
	$(PY) -m pytest -m "not browser"

bench: setup
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/pii.py
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/heatmap.py
	$(PY) benchmarks/audit.py
	$(PY) benchmarks/leaks.py

clean:
	rm -rf $(VENV) tracker/node_modules src/replayvault/web/static/vendor $(TRACKER_OUT) .pytest_cache
