# Two entry points: `make run` (set up + start the app) and `make test` (set up + lint + tests).
# Both are idempotent: the venv is rebuilt only when a requirements file changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run dev test test-fast lint format chromium bench-venv bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat  # `embedding_core` importable anywhere
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# `make run` serves the app with the file watcher off (on a busy machine it printed
# thousands of "Inotify queue overflowed" lines); `make dev` keeps it on to reload edits.
# Both through `ui.serve`: `streamlit run app.py` that starts the training process (and its
# TensorFlow import) first, before Streamlit loads (`app.app`'s lifespan would, a moment later).
run: $(VENV)/.runtime  ## RUNS=/path puts the run store there (default ./runs)
	$(if $(RUNS),EMBEDDING_CORE_RUNS=$(RUNS) )$(BIN)/python -m ui.serve --server.headless true \
		--server.port $(PORT) --browser.gatherUsageStats false --server.fileWatcherType none

dev: $(VENV)/.dev
	$(if $(RUNS),EMBEDDING_CORE_RUNS=$(RUNS) )$(BIN)/python -m ui.serve --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false --server.fileWatcherType auto --server.runOnSave true

chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -qq chromium >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq chromium); \
	else echo "chromium missing and not root: browser tests will be skipped (fail under CI=true)"; fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(VENV)/.dev chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev  ## the inner loop: no browser, no training-heavy AppTests
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow and not e2e"

# Benchmarks (not part of `make test`). The DeepCTR and CatBoost peers live in their own venv:
# DeepCTR's Keras 2 stack must not touch ours. Versions pinned to what produced benchmarks/results/.
DEEPCTR_VENV ?= /work/deepctr-venv

bench-venv:
	test -x $(DEEPCTR_VENV)/bin/python || python3 -m venv $(DEEPCTR_VENV)
	$(DEEPCTR_VENV)/bin/pip install --quiet tensorflow-cpu==2.21.0 deepctr==0.9.4 \
		pandas==3.1.1 numpy==2.4.6 scikit-learn==1.9.1 psutil==7.2.2 catboost==1.2.10
	$(DEEPCTR_VENV)/bin/pip install --quiet --no-deps tf-keras==2.21.0

bench: $(VENV)/.dev  ## about 40 min on 2 cores; run `make bench-venv` once first
	export BENCH_PEER_PYTHON=$(DEEPCTR_VENV)/bin/python; \
	$(BIN)/python benchmarks/train_speed.py --repeats 3 --out benchmarks/results/train_speed.json && \
	$(BIN)/python benchmarks/quality.py --seeds 3 --out benchmarks/results/quality.json && \
	$(BIN)/python benchmarks/planted.py --out benchmarks/results/planted.json && \
	$(BIN)/python benchmarks/app_latency.py --out benchmarks/results/app_latency.json && \
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
