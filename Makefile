# Two entry points, both from a fresh clone: `make demo` (main job) and `make test` (test suite).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test test-fast test-slow bench clean

$(BIN)/embodied: setup.cfg
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/embodied

demo: setup
	$(BIN)/embodied sim split=test episodes=20 video=runs/demo/episode.mp4 metrics=runs/demo/metrics.json

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: setup
	$(BIN)/python -m pytest -m slow -q || [ $$? -eq 5 ]  # 5 = no slow test selected

test: test-fast test-slow

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) runs *.egg-info
