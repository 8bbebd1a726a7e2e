"""The GPU check's summary: its steps' outputs -> ``gpu_check.json`` and ``RESULTS.md`` (device, date, targets).

Called by ``benchmarks/gpu_check.sh`` with the folder of step outputs (``NAME.out`` whose last line is the
step's JSON, ``NAME.rc``, ``NAME.s``) and the JUnit file of the kernel tests in ``--out``. Exit status 1 when
a step failed or a correctness target was missed (kernel tolerance, cache equivalence, finite loss); the
speed targets are reported, and judged only on a GPU (``--mode full``); a step left out is not judged.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

STEPS = ("wheels", "imports", "kernels", "attention", "rollout", "train")
SPEED_TARGETS = (("fwd_bwd_speedup_T4096_bf16", 1.5), ("decode_bandwidth_fraction", 0.7))


def _read(path: Path, default: str = "") -> str:
    return path.read_text().strip() if path.exists() else default


def step_results(steps: Path) -> dict:
    out = {}
    for name in STEPS:
        if not (steps / f"{name}.rc").exists():
            continue
        lines = _read(steps / f"{name}.out").splitlines()
        try:
            figures = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            figures = None
        out[name] = {"exit": int(_read(steps / f"{name}.rc")), "seconds": int(_read(steps / f"{name}.s", "0")),
                     "figures": figures}
    return out


def kernel_tests(junit: Path) -> dict:
    if not junit.exists():
        return {"tests": 0, "failed": [], "skipped": 0}
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    return {"tests": len(cases), "failed": failed, "skipped": sum(c.find("skipped") is not None for c in cases)}


def device_info() -> dict:
    info = {"python": platform.python_version(), "host": platform.node()}
    try:
        import torch
        import triton

        info.update(torch=torch.__version__, triton=triton.__version__, cuda=torch.version.cuda,
                    gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None)
    except ImportError as e:
        info["error"] = str(e)
    return info


def targets(steps: dict, kernels: dict, mode: str) -> dict:
    figures = {name: (s["figures"] or {}) for name, s in steps.items()}
    gpu = figures.get("attention", {}).get("gpu") or {}
    speed = {"fwd_bwd_speedup_T4096_bf16": (gpu.get("fwd_bwd") or {}).get("4096", {}).get("speedup"),
             "decode_bandwidth_fraction": gpu.get("decode_bandwidth_fraction")}
    out = {}
    for name, bound in SPEED_TARGETS:
        value = speed[name]
        out[name] = {"value": value, "target": f">= {bound}",
                     "met": None if mode != "full" or value is None else value >= bound, "kind": "speed"}

    def judged(step: str, met: bool) -> bool | None:
        return met if step in steps else None  # a step left out (GPU_CHECK_STEPS) is not judged

    out["kernel_tests_within_tolerance"] = {"value": f"{kernels['tests'] - len(kernels['failed'])}/{kernels['tests']}",
                                            "target": "all", "kind": "correctness",
                                            "met": judged("kernels", kernels["tests"] > 0 and not kernels["failed"])}
    rollout, train = figures.get("rollout", {}), figures.get("train", {})
    out["rollout_cache_equivalent"] = {"value": rollout.get("max_rel_logit_error"),
                                       "target": f"<= {rollout.get('tolerance')}", "kind": "correctness",
                                       "met": judged("rollout", rollout.get("equivalent", False))}
    out["train_loss_finite"] = {"value": train.get("last_losses"), "target": "finite", "kind": "correctness",
                                "met": judged("train", train.get("loss_finite", False))}
    return out


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _figures(report: dict, step: str) -> dict:
    return report["steps"].get(step, {}).get("figures") or {}


def markdown(report: dict) -> str:
    dev = report["device"]
    lines = [f"# GPU check ({report['mode']})", "",
             f"- date: {report['date']}", f"- device: {dev.get('gpu') or 'no GPU (CPU dry run)'}; torch "
             f"{dev.get('torch')}, triton {dev.get('triton')}, CUDA {dev.get('cuda')}, Python {dev['python']}",
             f"- command: `benchmarks/gpu_check.sh{' --dry-run' if report['mode'] == 'dry' else ''}`", "",
             "| step | exit | seconds |", "| --- | --- | --- |"]
    lines += [f"| {name} | {s['exit']} | {s['seconds']} |" for name, s in report["steps"].items()]
    lines += ["", "| target | value | wanted | met |", "| --- | --- | --- | --- |"]
    for name, t in report["targets"].items():
        met = {None: "not judged", True: "yes", False: "**no**"}[t["met"]]
        lines.append(f"| {name} | {_fmt(t['value'])} | {t['target']} | {met} |")
    gpu = _figures(report, "attention").get("gpu") or {}
    if gpu:
        lines += ["", f"Attention ({gpu.get('device')}, {gpu.get('dtype')}, 8 heads, head dim 32):", "",
                  "| T | batch | Triton TFLOP/s | SDPA flash TFLOP/s | speed-up |", "| --- | --- | --- | --- | --- |"]
        for t, f in gpu.get("fwd_bwd", {}).items():
            lines.append(f"| {t} | {f['batch']} | {_fmt(f['triton_tflops'])} | {_fmt(f['sdpa_tflops'])} | "
                         f"{_fmt(f['speedup'])} |")
        lines += ["", f"Decode over {gpu.get('decode_keys')} keys (batch {gpu.get('decode_batch')}): Triton "
                  f"{_fmt(gpu.get('triton_decode_us'))} us, SDPA {_fmt(gpu.get('sdpa_decode_us'))} us; "
                  f"{_fmt(gpu.get('decode_bandwidth_gbs'))} GB/s = {_fmt(gpu.get('decode_bandwidth_fraction'))} of "
                  f"the copy bandwidth {_fmt(gpu.get('copy_bandwidth_gbs'))} GB/s."]
    rollout = _figures(report, "rollout")
    if rollout:
        lines += ["", f"KV-cache rollout: {rollout['steps']} steps x {rollout['batch']} envs, "
                  f"{rollout['cache_bytes_per_step']} B/step (measured {_fmt(rollout['measured_cache_bytes_per_step'])}), "
                  f"cache {_fmt(rollout['cache_mib'])} MiB, {_fmt(rollout['step_ms_at_full_length'])} ms/step at full "
                  f"length (median; the first step, with the decode kernel's compile and autotune: "
                  f"{_fmt(rollout.get('first_step_ms'))} ms), peak {_fmt(rollout['peak_device_mib'])} MiB; max rel. logit error "
                  f"{_fmt(rollout['max_rel_logit_error'])}."]
    train = _figures(report, "train")
    if train:
        lines += ["", f"Training (DDP world {train['world_size']}, AMP {train['amp']}): {_fmt(train['wall_s'])} s, "
                  f"{train['env_steps']} env steps = {_fmt(train['env_steps_per_s'])} env steps/s, {train['updates']} "
                  f"updates, {_fmt(train['learner_tokens_per_s'])} learner tokens/s, loss finite: {train['loss_finite']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("full", "dry"), required=True)
    parser.add_argument("--steps", type=Path, required=True, help="folder of the steps' outputs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    steps = step_results(args.steps)
    kernels = kernel_tests(args.out / "kernels.xml")
    report = {"mode": args.mode, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "device": device_info(), "steps": steps, "kernel_tests": kernels,
              "targets": targets(steps, kernels, args.mode)}
    failed_steps = [name for name, s in steps.items() if s["exit"] != 0]
    missed = [name for name, t in report["targets"].items() if t["met"] is False and t["kind"] == "correctness"]
    report["ok"] = not failed_steps and not missed
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (args.out / "RESULTS.md").write_text(markdown(report))
    print(markdown(report))
    if failed_steps or missed:
        print(f"gpu_check: failed steps {failed_steps}, missed targets {missed}", file=sys.stderr)
    print(json.dumps({"ok": report["ok"], "failed_steps": failed_steps, "missed_targets": missed}))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
