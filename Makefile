# Quick start: `make run` (set up, then run the pipeline on the bundled demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
KEY_FILE ?= $(HOME)/.config/compval/pseudonym.key

.PHONY: setup system-deps run test lint demo-data clean-results benchmark

# Debian packages the pipeline uses: Graphviz (CFA path diagram) and Chromium (browser check of the report).
# Installed when missing and we may (root, or passwordless sudo); otherwise a message says what to install.
SYSTEM_PACKAGES := graphviz:dot chromium:chromium

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) system-deps

system-deps:
	@missing=""; for pc in $(SYSTEM_PACKAGES); do pkg=$${pc%%:*}; cmd=$${pc##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then echo "Please install the Debian packages:$$missing (apt-get install$$missing)"; \
	  else echo "Installing$$missing"; $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null; fi; \
	fi

# A pseudonymisation key outside the repository, created once per machine, so that pseudonyms are stable
# between runs (set COMPVAL_PSEUDONYM_KEY to use your organisation's key instead).
$(KEY_FILE):
	mkdir -p $(dir $(KEY_FILE))
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $(KEY_FILE)

run: setup $(KEY_FILE)
	$(BIN)/snakemake --cores $(CORES)
	@echo
	@echo "Results are in $(CURDIR)/results (headline numbers: results/summary.json)"

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/snakemake --lint

# Re-draw the bundled demo data from the population model (writes data/raw/; normally never needed)
demo-data: setup
	$(BIN)/python -m compval.simulate --codebook config/codebook.yaml --params config/simulation.yaml --out data/raw

# Timings, run on demand (never part of the tests): CFA against lavaan (skipped where R is absent) and the
# whole pipeline at the demo size and 10^4 respondents; CSV and plots in benchmarks/results/.
# BENCH_PIPELINE=--large adds 10^5 and 10^6 respondents (slow).
BENCH_PIPELINE ?=
benchmark: setup
	$(BIN)/python benchmarks/bench_cfa.py
	$(BIN)/python benchmarks/bench_pipeline.py $(BENCH_PIPELINE)

clean-results:
	rm -rf results/* data/processed/* logs .snakemake
