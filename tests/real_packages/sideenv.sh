#!/usr/bin/env bash
# Builds (once) the side environments in which tests/real_packages run our adapters against the real
# simulator packages from PyPI: habitat-lab (without habitat-sim, which is conda-only) and minedojo 0.1
# (with gym 0.21, which builds only with old setuptools/wheel, no build isolation and a pip older than 24.1,
# which rejects its metadata). Each env is kept under $1 (default ~/.cache/embodied-sideenv) and rebuilt
# only when its requirements below change.
set -euo pipefail
root="${1:-${EMBODIED_SIDEENV:-$HOME/.cache/embodied-sideenv}}"
python="${SIDEENV_PYTHON:-python3}"  # 3.10+ (gymnasium); CI's and the images' Python is 3.11
mkdir -p "$root"

build() {  # name, then the pip steps, each a quoted argument list
  local name="$1"; shift
  local want; want="$("$python" --version) | $*"
  if [ -f "$root/$name/.built" ] && [ "$(cat "$root/$name/.built")" = "$want" ]; then
    echo "side env $name: up to date ($root/$name)"; return
  fi
  echo "side env $name: building in $root/$name"
  rm -rf "$root/$name"
  "$python" -m venv "$root/$name"
  local step
  for step in "$@"; do
    # shellcheck disable=SC2086  # each step is a pip argument list
    "$root/$name/bin/pip" install -q --disable-pip-version-check $step
  done
  echo "$want" > "$root/$name/.built"
}

build habitat "habitat-lab==0.3.320260507 gymnasium==1.4.0 pytest"
build minedojo "pip<24.1 setuptools<66 wheel<0.40" "--no-build-isolation gym==0.21.0" \
  "numpy<2 minedojo==0.1 gymnasium==1.4.0 pytest"
