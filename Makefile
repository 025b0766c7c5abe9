# Quick start: `make run` (set up, then run the pipeline on the bundled demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
KEY_FILE ?= $(HOME)/.config/compval/pseudonym.key

.PHONY: setup run test lint demo-data clean-results report benchmark

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

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

benchmark: setup
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider

clean-results:
	rm -rf results/* data/processed/* logs .snakemake
