# Two entry points on a fresh machine: `make repro` (set up, then run the whole pipeline on the data
# shipped in data/embedded/) and `make test` (set up, then run the tests). Both create .venv from
# requirements.lock the first time. `make first-look`: a real result in minutes (README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: setup repro pull first-look test lint plots

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# JOBS=N (N > 1): the parallel runner, N stages at a time on a local Dask cluster, each with its
# share of the CPUs' threads (docs/parallel.md); JOBS=1: plain `dvc repro`, one at a time. The
# default, one more stage than CPUs, was the fastest measured on 2 cores (19.7 min against 23.4 with
# 2 workers; docs/performance.md); every JOBS writes the same results.
JOBS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
repro: setup
ifeq ($(filter-out 0 1,$(JOBS)),)
	$(RUN) dvc repro
else
	$(RUN) python -m jena_forecast.parallel --jobs $(JOBS)
endif

# A teammate's first command instead of `make repro`: every output this commit records, from the
# default DVC remote (docs/sharing.md); trains nothing. `dvc status` then says what is out of date.
pull: setup
	$(RUN) dvc pull
	$(RUN) dvc status

# The data stages, the naive forecast, ridge regression and the small dense network, on the real
# data: their scores, and the forecast charts of the two models in build/first-look/index.html.
# A file given to `dvc plots show` is drawn with the props given beside it, not with those of the
# folder that dvc.yaml's `plots:` defines: FORECAST_CHART repeats that folder's (metrics/predictions),
# and tests/test_first_look.py checks the two pages agree.
FIRST_LOOK := baseline classical@ridge evaluate@dense
FIRST_LOOK_CHARTS := metrics/predictions/ridge.csv metrics/predictions/dense.csv
FORECAST_CHART := -t timeseries -x timestamp -y predicted_degc --y-label "T (degC)"
first-look: build/plots-template.html
	$(RUN) dvc repro $(FIRST_LOOK)
	$(RUN) dvc metrics show metrics/scores/naive.json metrics/scores/ridge.json metrics/scores/dense.json
	$(RUN) dvc plots show --html-template build/plots-template.html -o build/first-look \
		$(FORECAST_CHART) $(FIRST_LOOK_CHARTS)

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
