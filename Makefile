# Quick start: `make run` (set up, then run the pipeline on the bundled demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
KEY_FILE ?= $(HOME)/.config/compval/pseudonym.key

.PHONY: setup system-deps run test test-fast test-cluster lint demo-data clean-results benchmark

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

# The edit loop: everything but whole-pipeline runs and demo-wide computations (`make test` runs everything)
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not e2e"

# A single-node SLURM on localhost (Debian's munge/slurmctld/slurmd, installed when missing; needs root): a small
# `power` grid through Snakemake's SLURM executor, compared with a local run; every daemon stopped by its pid.
test-cluster: setup
	bash tests/cluster/test_cluster.sh

lint: setup
	$(BIN)/snakemake --lint

# Re-draw the bundled demo data from the population model (writes data/raw/; normally never needed)
demo-data: setup
	$(BIN)/python -m compval.simulate --codebook config/codebook.yaml --params config/simulation.yaml --out data/raw

# Timings, run on demand (never part of the tests)
benchmark: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-results:
	rm -rf results/* data/processed/* logs .snakemake
