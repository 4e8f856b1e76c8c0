# Two entry points on a fresh machine: `make repro` (set up, then run the whole pipeline) and
# `make test` (set up, then run the tests). Both create .venv from requirements.lock the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: setup repro test lint plots

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# MIRROR=/path/to/jena_climate_*.csv.zip copies a local copy of the data into data/mirror/ first,
# where params.yaml's download.mirror looks for it.
repro: setup
ifdef MIRROR
	mkdir -p data/mirror
	install -m 0644 "$(MIRROR)" data/mirror/
endif
	$(RUN) dvc repro

test: setup
	$(RUN) python -m pytest

lint: setup
	$(RUN) ruff check src stages tests tools bench
	$(RUN) ruff format --check src stages tests tools bench
	$(RUN) mypy src

# The DVC plots page, rendered offline: Vega is inlined into the page template (no CDN needed).
build/plots-template.html: tools/offline_plots_template.py $(STAMP)
	$(RUN) python tools/offline_plots_template.py $@

plots: build/plots-template.html
	$(RUN) dvc plots show --html-template build/plots-template.html
