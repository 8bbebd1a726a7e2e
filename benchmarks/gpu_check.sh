#!/usr/bin/env bash
# The GPU check in one command, for a lent GPU machine (one H200: python3 with torch + CUDA and triton, no
# hydra/omegaconf/gymnasium/av/ray, no network). Run from anywhere; results go to $OUT (default out/gpu_check):
#   gpu_check.json  every step's figures, the targets and whether each was met
#   RESULTS.md      the same as a table, with the device and the date
#   gpu_check.log   every step's output;  kernels.xml  the kernel tests (JUnit)
# Steps (each under its own time limit; a failing step does not stop the others, the exit code says):
#   0. install the missing packages from carried wheels (.gpu-wheels/, made by `make gpu-wheels`)
#   1. the Triton kernel tests compiled for the GPU at large sizes, fp32/bf16/fp16 vs the float64 reference
#   2. benchmarks/attention.py: fwd+bwd TFLOP/s vs SDPA (flash) at T = 4096 and 16k, decode vs copy bandwidth
#   3. benchmarks/kv_rollout.py: the policy's KV-cache rollout at 64k steps (equivalence, memory per step)
#   4. benchmarks/amp_ddp_train.py: 2 minutes of incontext_house_gpu-shaped training, AMP bf16, torchrun DDP
# --dry-run: the same steps on the CPU at tiny sizes (Triton interpreter, gloo), as CI runs it.
# GPU_CHECK_STEPS="kernels attention" reruns only those of steps 1-4 (a second try inside the same device budget).
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=full
case "${1:-}" in
  --dry-run) MODE=dry ;;
  "") ;;
  *) echo "usage: benchmarks/gpu_check.sh [--dry-run]  (unknown argument: $1)" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
SELECTED=${GPU_CHECK_STEPS:-kernels attention rollout train}
OUT=${OUT:-out/gpu_check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STEPS=$(mktemp -d)
SITE=""
trap 'rm -rf "$STEPS" ${SITE:+"$SITE"}' EXIT
LOG="$OUT/gpu_check.log"
: >"$LOG"
rm -f "$OUT/kernels.xml" "$OUT/gpu_check.json" "$OUT/RESULTS.md"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ "$MODE" = dry ]; then
  export TRITON_INTERPRET=1 CUDA_VISIBLE_DEVICES=""
else
  export TRITON_INTERPRET=0
fi
say() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$LOG"; }

# step NAME LIMIT_S CMD...: runs CMD with a time limit; its stdout, stderr, exit code and seconds go to
# $STEPS/NAME.{out,err,rc,s}, both outputs to the log, and their ends to the terminal.
step() {
  local name=$1 limit=$2 start rc
  shift 2
  if [[ "$name" != wheels && "$name" != imports && " $SELECTED " != *" $name "* ]]; then
    say "step $name: not selected (GPU_CHECK_STEPS=$SELECTED)"
    return
  fi
  say "step $name (limit ${limit}s): $*"
  start=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$STEPS/$name.out" 2>"$STEPS/$name.err"
  rc=$?
  echo "$rc" >"$STEPS/$name.rc"
  echo $(( $(date +%s) - start )) >"$STEPS/$name.s"
  cat "$STEPS/$name.err" "$STEPS/$name.out" >>"$LOG"
  tail -n 8 "$STEPS/$name.err"
  tail -n 3 "$STEPS/$name.out"
  say "step $name: exit $rc after $(cat "$STEPS/$name.s")s"
}

# 0. carried wheels: installed into a private folder that comes first on the path.
if compgen -G ".gpu-wheels/*.whl" >/dev/null; then
  SITE=$(mktemp -d)
  step wheels 60 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" .gpu-wheels/*.whl
  export PYTHONPATH="$PWD:$SITE${PYTHONPATH#"$PWD"}"
else
  say "no .gpu-wheels/: using the packages already installed"
fi
step imports 60 "$PY" -c "import hydra, omegaconf, gymnasium, torch, triton, embodied.learner.trainer; print('{}')"

if [ "$MODE" = full ]; then
  XDIST=()
  "$PY" -c "import xdist" 2>/dev/null && XDIST=(-n 8)
  step kernels 180 env EMBODIED_GPU_CHECK=full EMBODIED_TRITON_AUTOTUNE=0 "$PY" -m pytest tests/kernels/check_triton_sizes.py \
    -q -p no:cacheprovider "${XDIST[@]}" --junitxml="$OUT/kernels.xml"
  step attention 150 "$PY" benchmarks/attention.py --no-cpu --kernel-lengths 4096 16384 --decode-keys 65536
  step rollout 90 "$PY" benchmarks/kv_rollout.py --steps 65536
  step train 160 "$PY" -m torch.distributed.run --nproc_per_node=1 benchmarks/amp_ddp_train.py \
    --seconds "${GPU_CHECK_TRAIN_SECONDS:-120}" --no-tiny
else
  step kernels 240 env EMBODIED_GPU_CHECK=dry "$PY" -m pytest tests/kernels/check_triton_sizes.py -q -p no:cacheprovider \
    --junitxml="$OUT/kernels.xml"
  step attention 180 "$PY" benchmarks/attention.py --no-cpu --kernels-on cpu --kernel-lengths 16 32 --decode-keys 64 \
    --kernel-tokens 32 --reps 1
  step rollout 120 "$PY" benchmarks/kv_rollout.py --steps 96 --tail 3
  step train 240 "$PY" -m torch.distributed.run --nproc_per_node=1 benchmarks/amp_ddp_train.py --seconds 60 --tiny
fi
"$PY" benchmarks/gpu_check_report.py --mode "$MODE" --steps "$STEPS" --out "$OUT" 2>&1 | tee -a "$LOG"
exit "${PIPESTATUS[0]}"
