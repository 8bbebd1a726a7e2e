# Two entry points, both from a fresh clone: `make demo` (main job) and `make test` (test suite).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The venv's console scripts (embodied, hadolint) come first for the tests' subprocesses.
export PATH := $(abspath $(BIN)):$(PATH)
DEMO_STEPS ?= 98304
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# Side envs with the real simulator packages (habitat-lab, minedojo 0.1), kept outside the repo and reused.
SIDEENV ?= $(HOME)/.cache/embodied-sideenv
export EMBODIED_SIDEENV := $(SIDEENV)

.PHONY: setup demo test test-fast test-slow browser sideenv bench peer clean gpu-wheels

$(BIN)/embodied: setup.cfg
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/embodied

demo: setup  # a few minutes on 2 CPU cores: train, evaluate on unseen (test) houses, videos + HTML report
	rm -rf runs/demo
	$(BIN)/embodied train name=demo trainer.total_steps=$(DEMO_STEPS)
	$(BIN)/embodied eval policy=runs/demo split=test trials=8 episodes=3 videos=3 out=runs/demo/eval
	@echo "see runs/demo/eval/report.html (metrics.json, curve.png, videos/)"

browser:  # the HTML-report tests drive a real headless Chromium: installed here when possible, else named
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt-get) for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: the browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium), then run make test again" >&2; \
	    exit 1; \
	  fi; }

test-fast: setup browser
	$(BIN)/python -m pytest -m "not slow" -q

sideenv:  # a few minutes the first time, then seconds: the real-package adapter tests and the peer benchmark's tests run in them
	SIDEENV_PYTHON=$(PY) bash tests/real_packages/sideenv.sh $(SIDEENV)
	SIDEENV_PYTHON=$(PY) bash benchmarks/peer/sideenv.sh $(SIDEENV)

test-slow: setup sideenv
	$(BIN)/python -m pytest -m slow -q || [ $$? -eq 5 ]  # 5 = no slow test selected

test: test-fast test-slow

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b; done

# Env steps/s of `embodied train` next to sample-factory APPO and sb3-contrib RecurrentPPO (same env, trunk and core),
# ~30 min on 2 cores; their side envs (benchmarks/peer/sideenv.sh) are built under $(SIDEENV) on first use.
peer: setup
	$(BIN)/python benchmarks/peer_throughput.py $(PEER_ARGS)

# The wheels benchmarks/gpu_check.sh installs on a lent GPU machine (CPython 3.12, x86-64, no network): exactly
# benchmarks/gpu_wheels.txt (downloaded) and gpu_wheels_built.txt (pure-Python sources, built here), no others.
GPU_WHEELS ?= .gpu-wheels
# Any Python with pip downloads them: the venv's when there is one.
GPU_PY ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PY))
GPU_PLATFORM := --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
	--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
gpu-wheels:
	rm -rf $(GPU_WHEELS) && mkdir -p $(GPU_WHEELS)
	$(GPU_PY) -m pip download -q --no-deps --only-binary=:all: $(GPU_PLATFORM) -d $(GPU_WHEELS) -r benchmarks/gpu_wheels.txt
	$(GPU_PY) -m pip wheel -q --no-deps -w $(GPU_WHEELS) -r benchmarks/gpu_wheels_built.txt
	@ls $(GPU_WHEELS)

clean:
	rm -rf $(VENV) runs *.egg-info
