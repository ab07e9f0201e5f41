# The README's commands. Each target sets up what is missing first, and is quick when it is there.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The venv is rebuilt when pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup system demo test unit lint bench clean

setup: system $(STAMP)
	@$(VENV)/bin/cdc-migrate prepare >/dev/null || echo "setup: no class-data archive (Spark starts without it)"

system:
	@bash scripts/setup-system.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13), "cdc_migrate needs Python 3.11 or 3.12, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing Python packages into $(VENV) (the first time builds pyspark; a few minutes)"
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(VENV)/bin/cdc-migrate demo --config conf/demo.toml

lint: setup
	$(VENV)/bin/ruff check cdc_migrate glue_jobs tests bench
	$(VENV)/bin/ruff format --check cdc_migrate glue_jobs tests bench
	$(VENV)/bin/mypy

unit: setup
	$(PY) -m pytest tests/unit -q

test: lint
	$(PY) -m pytest -q

bench: setup
	@$(PY) -c 'import psutil' 2>/dev/null || $(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) bench/run.py
	$(PY) bench/drivers.py

clean:
	rm -rf $(VENV) demo-output bench-output .pytest_cache .mypy_cache .ruff_cache
