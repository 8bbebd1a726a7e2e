#!/usr/bin/env bash
# Builds (once) the side environments benchmarks/peer_throughput.py trains the peer RL stacks in, each
# kept under $1 (default ~/.cache/embodied-sideenv) and rebuilt only when its requirements below change:
#   peer-sf   sample-factory 2.1.1 (needs numpy<2 and gymnasium<1.0)
#   peer-sb3  sb3-contrib 2.9.2 with stable-baselines3 2.9.2
# The CPU build of torch goes in first (a bare `torch` requirement would pull a multi-GB CUDA build). Our
# house env is not installed there: the runners put the repository root on PYTHONPATH, and the envs get
# the house's own few dependencies (numpy, numba, gymnasium, opencv-python).
set -euo pipefail
root="${1:-${EMBODIED_SIDEENV:-$HOME/.cache/embodied-sideenv}}"
python="${SIDEENV_PYTHON:-python3}"
mkdir -p "$root"

build() {  # name, then the pip steps, each a quoted argument list
  local name="$1"; shift
  local want; want="$("$python" --version) | $*"
  if [ -f "$root/$name/.built" ] && [ "$(cat "$root/$name/.built")" = "$want" ]; then
    echo "side env $name: up to date ($root/$name)" >&2; return
  fi
  echo "side env $name: building in $root/$name (a few minutes)" >&2
  rm -rf "$root/$name"
  "$python" -m venv "$root/$name"
  local step
  for step in "$@"; do
    # shellcheck disable=SC2086  # each step is a pip argument list
    "$root/$name/bin/pip" install -q --disable-pip-version-check $step >&2
  done
  echo "$want" > "$root/$name/.built"
}

build peer-sf "torch==2.13.0" "sample-factory==2.1.1 numpy<2 gymnasium<1.0 numba opencv-python"
build peer-sb3 "torch==2.13.0" "sb3-contrib==2.9.2 stable-baselines3==2.9.2 numba opencv-python"
