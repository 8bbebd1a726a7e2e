"""The GPU check (benchmarks/gpu_check.sh) without a GPU: its dry run, its report, and the wheels it carries.

The dry run runs every step on the CPU with ``PYTHONPROFILEIMPORTTIME=1``, so the log names every module
each step's processes imported and who imported it: the third-party distributions our code imports
must be on the GPU machine (benchmarks/gpu_device_packages.txt) or among the carried wheels.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
# The device has the headless build of OpenCV (the same cv2 module).
ALIASES = {"opencv-python": "opencv-python-headless"}
DEVICE_ENV = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
              "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
              "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def _names(file: str) -> set[str]:
    lines = (ROOT / "benchmarks" / file).read_text().splitlines()
    return {canonicalize_name(re.split(r"[=<>!~ ]", ln.strip())[0]) for ln in lines if ln.strip() and ln[0] != "#"}


def _pins() -> list[Requirement]:
    return [Requirement(ln) for f in ("gpu_wheels.txt", "gpu_wheels_built.txt")
            for ln in (ROOT / "benchmarks" / f).read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def _check(args: list[str], out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "OUT": str(out), "PYTHON": sys.executable,
                                                    **(env or {})}, timeout=900)


def imported_by_us(log: str) -> set[str]:
    """Top-level modules our code imported: from one of our modules, or at run time (a function-level import, a
    script's own imports) when our sources name them. ``-X importtime`` prints a module's imports, one level
    deeper, before the module itself; a module imported by a third-party one is that package's business."""
    own = {"embodied", "envs", "configs", "__main__"} | {p.stem for d in ("tests", "benchmarks")
                                                         for p in (ROOT / d).rglob("*.py")}
    sources = "\n".join(p.read_text() for d in ("embodied", "envs", "benchmarks", "tests") for p in (ROOT / d).rglob("*.py"))
    named = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", sources, re.M))
    found, pending = set(), []  # pending: (depth, top-level name) of modules whose importer is not printed yet
    for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$", log, re.M):
        depth, top = len(m.group(1)) // 2, m.group(2).split(".")[0]
        children = [name for d, name in pending if d > depth]
        pending = [(d, name) for d, name in pending if d <= depth] + [(depth, top)]
        if top in own:
            found.update(children)
        if depth == 0 and top in named:
            found.add(top)
    return found - own


def test_unknown_argument_is_refused(tmp_path):
    res = _check(["--fast"], tmp_path)
    assert res.returncode == 2 and "unknown argument: --fast" in res.stderr


@pytest.mark.slow
def test_dry_run_runs_every_step_and_imports_only_what_the_device_has_or_carries(tmp_path):
    """~1 min on 2 shared cores: the four steps at tiny sizes (interpreter, gloo), report and import check."""
    res = _check(["--dry-run"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["ok"] and report["mode"] == "dry"
    exits = {n: s["exit"] for n, s in report["steps"].items()}
    exits.pop("wheels", None)  # run when the checkout has .gpu-wheels/ (made by `make gpu-wheels`)
    assert exits == {n: 0 for n in ("imports", "kernels", "attention", "rollout", "train")}
    assert report["kernel_tests"]["tests"] >= 20 and not report["kernel_tests"]["failed"]
    figures = {n: s["figures"] for n, s in report["steps"].items()}
    fwd_bwd = figures["attention"]["gpu"]["fwd_bwd"]
    assert set(fwd_bwd) == {"16", "32"} and all(f["max_abs_diff_vs_sdpa"] < 0.05 for f in fwd_bwd.values())
    assert figures["rollout"]["equivalent"] and figures["rollout"]["steps"] == 96
    train = figures["train"]
    assert train["ddp"] and train["world_size"] == 1 and train["loss_finite"] and train["updates"] == 2
    assert train["env_steps"] == 16 and train["learner_tokens_per_s"] > 0  # one rollout: 2 envs x 8 steps
    md = (tmp_path / "RESULTS.md").read_text()
    assert report["date"][:10] in md and "| kernel_tests_within_tolerance | 23/23 | all | yes |" in md

    def dist(module: str) -> set[str]:
        return {ALIASES.get(canonicalize_name(d), canonicalize_name(d))
                for d in metadata.packages_distributions().get(module, [])}

    log = (tmp_path / "gpu_check.log").read_text()
    needed = {d for m in imported_by_us(log) for d in dist(m)} - {"embodied"}
    assert {"torch", "hydra-core", "gymnasium", "numba"} <= needed  # the parse found the real imports
    missing = needed - _names("gpu_device_packages.txt") - {canonicalize_name(r.name) for r in _pins()}
    assert not missing, f"the GPU check imports {sorted(missing)}: neither on the GPU machine nor carried"


def test_report_fails_on_a_failed_step_or_a_missed_correctness_target(tmp_path):
    steps, out = tmp_path / "steps", tmp_path / "out"
    steps.mkdir()
    out.mkdir()
    results = {"kernels": (1, {}), "rollout": (0, {"equivalent": True, "max_rel_logit_error": 1e-3, "tolerance": 3e-2,
                                                  "steps": 65536, "batch": 2, "cache_bytes_per_step": 8192,
                                                  "measured_cache_bytes_per_step": 8192.0, "cache_mib": 1024.0,
                                                  "step_ms_at_full_length": 2.0, "peak_device_mib": 9000.0}),
               "train": (0, {"loss_finite": False, "last_losses": {"policy_loss": float("nan")}, "world_size": 1,
                             "amp": "bfloat16", "wall_s": 120.0, "env_steps": 1000, "env_steps_per_s": 8.3,
                             "updates": 3, "learner_tokens_per_s": 1e5})}
    for name, (rc, figures) in results.items():
        (steps / f"{name}.rc").write_text(str(rc))
        (steps / f"{name}.s").write_text("5")
        (steps / f"{name}.out").write_text("log line\n" + json.dumps(figures) + "\n")
    (out / "kernels.xml").write_text('<testsuites><testsuite><testcase name="test_a"/><testcase name="test_b">'
                                     '<failure message="rel err"/></testcase></testsuite></testsuites>')
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check_report.py"), "--mode", "full",
                          "--steps", str(steps), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 1
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary == {"ok": False, "failed_steps": ["kernels"],
                       "missed_targets": ["kernel_tests_within_tolerance", "train_loss_finite"]}
    targets = json.loads((out / "gpu_check.json").read_text())["targets"]
    assert targets["kernel_tests_within_tolerance"]["value"] == "1/2"
    assert targets["rollout_cache_equivalent"]["met"] is True
    assert targets["fwd_bwd_speedup_T4096_bf16"]["met"] is None  # no attention figures: not judged
    assert "| train_loss_finite |" in (out / "RESULTS.md").read_text()


def test_report_leaves_steps_that_did_not_run_unjudged(tmp_path):
    """A rerun of some steps (GPU_CHECK_STEPS=kernels): the others are neither met nor missed."""
    steps, out = tmp_path / "steps", tmp_path / "out"
    steps.mkdir()
    out.mkdir()
    for name, text in (("kernels", "1 passed\n"), ("attention", json.dumps(
            {"gpu": {"device": "NVIDIA H200", "dtype": "bfloat16", "decode_keys": 65536, "decode_batch": 16,
                 "fwd_bwd": {"4096": {"batch": 8, "triton_tflops": 120.0, "sdpa_tflops": 100.0, "speedup": 1.2}},
                 "triton_decode_us": 60.0, "sdpa_decode_us": 80.0, "decode_bandwidth_gbs": 3500.0,
                 "copy_bandwidth_gbs": 4300.0, "decode_bandwidth_fraction": 0.81}}) + "\n")):
        (steps / f"{name}.rc").write_text("0")
        (steps / f"{name}.s").write_text("3")
        (steps / f"{name}.out").write_text(text)
    (out / "kernels.xml").write_text('<testsuite><testcase name="test_a"/></testsuite>')
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check_report.py"), "--mode", "full",
                          "--steps", str(steps), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    targets = json.loads((out / "gpu_check.json").read_text())["targets"]
    assert {k: t["met"] for k, t in targets.items()} == {
        "fwd_bwd_speedup_T4096_bf16": False, "decode_bandwidth_fraction": True, "kernel_tests_within_tolerance": True,
        "rollout_cache_equivalent": None, "train_loss_finite": None}


def _device_tags() -> set[Tag]:
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
    return set(cpython_tags((3, 12), platforms=platforms)) | set(compatible_tags((3, 12), "cp312", platforms))


@pytest.mark.slow
def test_gpu_wheels_target_fetches_exactly_the_pinned_wheels_for_the_device(tmp_path):
    """``make gpu-wheels`` (about 1 MB from PyPI): one wheel per pin, installable on CPython 3.12 x86-64,
    whose requirements the device or another carried wheel meets."""
    dest = tmp_path / "wheels"
    res = subprocess.run(["make", "-s", "gpu-wheels", f"GPU_PY={sys.executable}", f"GPU_WHEELS={dest}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    wheels = {parse_wheel_filename(w.name)[0]: (w, parse_wheel_filename(w.name)) for w in dest.glob("*.whl")}
    assert len(wheels) == len(list(dest.iterdir()))  # nothing but wheels, one per name
    pins = {canonicalize_name(r.name): r for r in _pins()}
    assert set(wheels) == set(pins)
    available = _names("gpu_device_packages.txt") | set(pins)
    tags = _device_tags()
    for name, (path, (_, version, _, wheel_tags)) in wheels.items():
        assert version in pins[name].specifier and wheel_tags & tags, f"{path.name} is not the pinned cp312 wheel"
        with zipfile.ZipFile(path) as z:
            meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        for line in re.findall(r"^Requires-Dist: (.+)$", meta, re.M):
            req = Requirement(line)
            if req.marker is None or Marker(str(req.marker)).evaluate(DEVICE_ENV):
                assert canonicalize_name(req.name) in available, f"{path.name} needs {req.name}: not on the device"
    site = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--only-binary=:all:",
                          "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux2014_x86_64",
                          "--target", str(site), *map(str, dest.glob("*.whl"))], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert {"hydra", "omegaconf", "gymnasium", "antlr4"} <= {p.name for p in site.iterdir()}
