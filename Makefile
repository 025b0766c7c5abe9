# Quick start: `make run` (set up, then run the pipeline on the bundled demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
KEY_FILE ?= $(HOME)/.config/compval/pseudonym.key

.PHONY: setup system-deps run test test-fast test-cluster lint format demo-data clean-results benchmark i18n

# Debian packages the pipeline uses: Graphviz (CFA path diagram), Chromium (browser check of the report),
# Liberation Sans (the figures' font) and the Noto CJK fonts (Chinese figures and reports), both checked with
# fontconfig's fc-list, and poppler-utils (pdffonts: the test that Chinese PDFs embed their font) - package:command,
# or package:fc:family. Installed when missing and we may (root, or passwordless sudo); otherwise a message says
# what to install. Matplotlib keeps its own list of the system's fonts and never rescans it, so after an install
# (which may add fonts) its cached list is removed; it is rebuilt on the next import.
SYSTEM_PACKAGES := graphviz:dot chromium:chromium fontconfig:fc-list poppler-utils:pdffonts \
  fonts-liberation:fc:Liberation?Sans fonts-noto-cjk:fc:Noto?Sans?CJK?SC

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) system-deps

system-deps:
	@missing=""; for pc in $(SYSTEM_PACKAGES); do pkg=$${pc%%:*}; cmd=$${pc##*:}; \
	  case $$pc in *:fc:*) fc-list 2>/dev/null | grep -q "$${cmd//\?/ }" || missing="$$missing $$pkg";; \
	  *) command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg";; esac; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then echo "Please install the Debian packages:$$missing (apt-get install$$missing)"; \
	  else echo "Installing$$missing"; $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null && \
	    if [ -x $(BIN)/python ]; then \
	      rm -f "$$($(BIN)/python -c 'import matplotlib; print(matplotlib.get_cachedir())')"/fontlist-*.json; fi; fi; \
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

# Lint and format checks (ruff, snakefmt, Snakemake's linter, mypy on the SEM engine); `.ci/run` runs it.
# `make format` applies the formatters.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint
	$(BIN)/mypy src/compval/sem

format: setup
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

# Re-draw the bundled demo data from the population model (writes data/raw/; normally never needed)
demo-data: setup
	$(BIN)/python -m compval.simulate --codebook config/codebook.yaml --params config/simulation.yaml --out data/raw

# Message catalogue (compval.i18n): extract the messages babel.cfg names (_() / N_() in the library and the
# workflow scripts, the notebook's markdown cells), merge them into each language's .po (translate the new
# entries there), and compile the .mo files shipped beside them (tests/test_i18n.py checks that every message
# is translated and that the .mo files are up to date).
LOCALES := src/compval/locales
i18n: setup
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project=compval \
	  --copyright-holder="compval authors" -o $(LOCALES)/compval.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -w 120 -D compval \
	  -i $(LOCALES)/compval.pot -d $(LOCALES)
	$(BIN)/python -m compval.i18n compile

# Timings, run on demand (never part of the tests): CFA against lavaan (skipped where R is absent) and the
# whole pipeline at the demo size and 10^4 respondents, the power study's replications per second against an R
# lavaan loop; CSV and plots in benchmarks/results/.
# BENCH_PIPELINE=--large adds 10^5 and 10^6 respondents (slow).
BENCH_PIPELINE ?=
benchmark: setup
	$(BIN)/python benchmarks/bench_cfa.py
	$(BIN)/python benchmarks/bench_pipeline.py $(BENCH_PIPELINE)
	$(BIN)/python benchmarks/bench_power.py

clean-results:
	rm -rf results/* data/processed/* logs .snakemake
