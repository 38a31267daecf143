# Two entry points: `make run` (set up + start the app) and `make test` (set up + lint + tests).
# Both are idempotent: the venv is rebuilt only when a requirements file changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint format chromium bench-venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false

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

# DeepCTR peer for benchmarks/, in its own venv (its Keras 2 stack must not touch ours).
bench-venv:
	test -x /work/deepctr-venv/bin/python || python3 -m venv /work/deepctr-venv
	/work/deepctr-venv/bin/pip install --quiet tensorflow-cpu==2.21.0 deepctr==0.9.4 \
		pandas scikit-learn numpy psutil pyarrow
	/work/deepctr-venv/bin/pip install --quiet --no-deps tf-keras==2.21.0

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
