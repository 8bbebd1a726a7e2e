"""Training speed next to peer RL stacks: env steps/s on the house, same trunk and core, trained end to end.

One after another in one run, each on the house through our gymnasium export (``embodied/House-v0``, 128-step
episode cap) with the trunk of our default ``cnn`` encoder (strided 3x3 convs 16/32/64, pool to 4x4, linear to
128, goal and GPS embeddings) and a 128-wide recurrent core, 16 envs, 2 epochs of 8 minibatches, at 32 and 64 px:

- ``sf``:   sample-factory 2.1.1 APPO, GRU, 2 workers x 8 envs, rollout = recurrence = 64 (benchmarks/peer/sf_house.py);
- ``sb3``:  sb3-contrib 2.9.2 RecurrentPPO, LSTM, 16 envs, n_steps 64 (benchmarks/peer/sb3_house.py);
- ``ours``: ``embodied train cluster=inprocess policy=lstm policy.encoder.frozen=false trainer.minibatches=8`` as users run it
  (subprocess of the CLI; the default recurrent policy, an LSTM of 128 as sb3's; trials of 512 steps, partial
  updates every 64, in line with collection: the house default's ``overlap_updates: auto`` runs beside collection
  only the updates of a frozen encoder);
- ``ours_gru``: the same with ``policy=gru`` (the GRU of 128, as sample-factory's core);
- ``ours_ctxnone``: the same with ``trainer.grad_context=none`` (partial updates without gradients into the older
  context: with the default ``encoder_grad=acted`` the learner's work per update is as independent of the trial
  as the schedule allows; benchmarks/reports/training_speed.md, "How far back ...");
- ``ours_encfull``: the same with ``trainer.encoder_grad=full`` (the encoder's gradient from every frame of the
  context, ReLIC's; the default until 2026-12-05);
- ``ours_encnew``: the same with ``trainer.encoder_grad=new`` (as ``window``, and the full update at T too trains the
  encoder on the last 64 steps' frames only);
- ``ours_encwindow``: the same with ``trainer.encoder_grad=window`` (the default from 2026-12-05 until ``acted``,
  2026-12-06: the refreshes re-encode the trial's frames with the current weights, the full update at T trains the
  encoder on every frame; with ``acted`` each frame is encoded when acted on and once per epoch in the update after
  it, as in sample-factory);
- ``ours_sfschedule``: ours on sample-factory's work schedule (trials of 64 steps, one update per trial: no partial
  updates, no refresh): what our code costs per unit of work, apart from the algorithm's extra work;
- ``default``: ``embodied train`` with its default config (local Ray, frozen pretrained encoder, 32 px, 4 minibatches,
  updates beside acting);
- ``default_inprocess``: the same with ``cluster=inprocess`` (no Ray): ``ours_default_local_over_inprocess`` is
  what local Ray costs or gains in the CLI as users run it.

The peers run in cached side envs (benchmarks/peer/sideenv.sh, built on first use: a few minutes). Each system
is a subprocess stopped by SIGINT once measured. Steps/s are env steps per second of training after a warm-up:
the peers' from their progress reports (sample-factory's ``Total num frames`` log lines, every 5 s; SB3's after
every update) over ``--seconds`` after the first report plus ``--warmup``; ours from ``metrics.csv``
(``env_steps``, ``perf/wall_s``) over whole rollouts (the cost of partial updates grows within a rollout),
from the end of the first rollout after the warm-up until at least ``--seconds`` have passed (at most
3x ``--seconds``, then up to the last update).

    python benchmarks/peer_throughput.py                       # sf, sb3, ours, default: ~20 min on 2 cores; make peer
    python benchmarks/peer_throughput.py --all --seconds 60    # every variant too: ~40 min (the table in
                                                               # benchmarks/reports/training_speed.md)
    python benchmarks/peer_throughput.py --quick               # smoke test (~5 min: 15 s measured per system)
    python benchmarks/peer_throughput.py --only sb3,ours --resolutions 32 --seconds 60

The last line of stdout is one JSON object: ``{sf,sb3,ours,ours_gru,ours_ctxnone,ours_encfull,ours_encnew,ours_encwindow,ours_sfschedule}_steps_per_s_{32,64}``,
``{ours,ours_gru,...,ours_sfschedule}_over_sf_{32,64}``,
``ours_default_steps_per_s``, ``ours_default_over_sf_32``, ``ours_default_inprocess_steps_per_s``,
``ours_default_local_over_inprocess``, plus the settings, load averages and the
measured windows (``windows``: seconds and env steps per system).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "benchmarks" / "peer"
VARIANTS = {"ours": ["policy=lstm"], "ours_gru": ["policy=gru"],
            "ours_ctxnone": ["policy=lstm", "trainer.grad_context=none"],
            "ours_encfull": ["policy=lstm", "trainer.encoder_grad=full"],
            "ours_encnew": ["policy=lstm", "trainer.encoder_grad=new"],
            "ours_encwindow": ["policy=lstm", "trainer.encoder_grad=window"],
            "ours_sfschedule": ["policy=lstm", "trainer.rollout_steps=64", "trainer.update_every=64"]}
SYSTEMS = ("sf", "sb3", *VARIANTS, "default", "default_inprocess")
CORE = ("sf", "sb3", "ours", "default", "default_inprocess")  # the keys; --all adds the other variants
SF_FRAMES = re.compile(r"Total num frames: (\d+)")
SF_READY = (re.compile(r"Decorrelating experience for 448 frames"), 2)  # both workers step all 8 envs
SB3_PROGRESS = re.compile(r"^PEER_PROGRESS (\d+) ")
# 8 minibatches as the peers' (the house default is 4: configs/trainer/env/house.yaml)
OURS = ["cluster=inprocess", "policy.encoder.frozen=false", "trainer.num_envs=16", "trainer.epochs=2",
        "trainer.minibatches=8"]


def sideenv_root() -> Path:
    return Path(os.environ.get("EMBODIED_SIDEENV", Path.home() / ".cache" / "embodied-sideenv"))


def build_sideenvs() -> None:
    subprocess.run(["bash", str(PEER / "sideenv.sh"), str(sideenv_root())], check=True, stdout=sys.stderr)


def _start(cmd: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    print(f"$ {' '.join(cmd)}  (log: {log})", file=sys.stderr)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    # SIGINT back to its default in the child: a shell's background jobs inherit it ignored, and then Python
    # installs no KeyboardInterrupt handler, so the stop below would only land after the SIGKILL grace
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
                            start_new_session=True, bufsize=1,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _stop(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGINT to the subprocess's own process group (it and its workers), SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _lines(proc: subprocess.Popen, log: Path) -> queue.Queue:
    """A queue of (monotonic time, line) of the subprocess's output, also written to ``log``; None at its end."""
    q: queue.Queue = queue.Queue()

    def pump():
        with open(log, "w") as f:
            for line in proc.stdout:
                q.put((time.monotonic(), line))
                f.write(line)
                f.flush()
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def measure_peer(cmd: list[str], pattern: re.Pattern, log: Path, seconds: float, warmup: float,
                 env: dict, cwd: Path, ready: tuple[re.Pattern, int] | None = None,
                 startup_limit: float = 300.0) -> dict:
    """Env steps/s from the progress lines ``pattern`` matches (group 1: total env steps) over ``seconds`` that
    start at the first report ``warmup`` seconds after the first one (and after ``ready``: that many lines
    matching its pattern, e.g. every sample-factory worker running all its envs)."""
    proc = _start(cmd, log, env, cwd)
    q, reports, t_start = _lines(proc, log), [], time.monotonic()
    pending, t_ready = (ready[1] if ready else 0), (None if ready else t_start)
    try:
        while True:
            first = max(reports[0][0], t_ready) if reports and t_ready is not None else None
            if first is None and time.monotonic() - t_start > startup_limit:
                raise RuntimeError(f"no progress within {startup_limit:.0f} s; see {log}")
            begin = next((r for r in reports if r[0] >= first + warmup), None) if first is not None else None
            if begin is not None and reports[-1][0] - begin[0] >= seconds:
                break
            try:
                item = q.get(timeout=1.0)
            except queue.Empty:
                continue
            if item is None:
                raise RuntimeError(f"{cmd[1]} ended (exit {proc.wait()}) before the measurement was done; see {log}")
            m = pattern.search(item[1])
            if m:
                reports.append((item[0], int(m.group(1))))
            if pending and ready[0].search(item[1]):
                pending -= 1
                t_ready = item[0] if not pending else None
    finally:
        _stop(proc)
    end = reports[-1]
    return {"steps_per_s": (end[1] - begin[1]) / (end[0] - begin[0]), "window_s": round(end[0] - begin[0], 1),
            "window_steps": end[1] - begin[1], "startup_s": round(first - t_start, 1)}  # to the first report (ready)


def _metrics(path: Path) -> list[tuple[float, int]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [(float(r["perf/wall_s"]), int(float(r["env_steps"]))) for r in csv.DictReader(f) if r.get("perf/wall_s")]


def measure_ours(overrides: list[str], runs: Path, name: str, seconds: float, warmup: float,
                 startup_limit: float = 300.0, code: Path | None = None) -> dict:
    """Env steps/s of ``embodied train`` from its metrics.csv over whole rollouts (see the module docstring);
    ``code``: run the source tree there instead of the installed one (an older commit's worktree)."""
    from embodied.config import load

    cfg = load("train", overrides)
    rollout = int(cfg.trainer.num_envs) * int(cfg.trainer.rollout_steps)  # env steps per rollout (all envs)
    exe = Path(sys.executable).parent / "embodied"
    cmd = [str(exe) if exe.exists() else "embodied", "train", *overrides, f"name={name}", f"runs_dir={runs}",
           "trainer.total_steps=10000000000", "progress=false"]
    log = runs / f"{name}.log"
    # cluster=local means a Ray of its own; without an address, ray.init() joins a cluster that someone's
    # `ray start` left on this machine (/tmp/ray/ray_current_cluster) and then refuses num_cpus
    proc = _start(cmd, log, {"RAY_ADDRESS": "local", **({"PYTHONPATH": str(code)} if code else {})}, cwd=code)
    q, t_start = _lines(proc, log), time.monotonic()
    csv_path, rows, begin = runs / name / "metrics.csv", [], None
    try:
        while True:
            while True:  # drain the output (kept in the log)
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    raise RuntimeError(f"embodied train ended (exit {proc.wait()}) before the measurement; see {log}")
            rows = _metrics(csv_path)
            if not rows and time.monotonic() - t_start > startup_limit:
                raise RuntimeError(f"no metrics within {startup_limit:.0f} s; see {log}")
            ends = [r for r in rows if r[1] % rollout == 0]  # rows at rollout ends
            if rows and begin is None:
                begin = next((r for r in ends if r[0] >= rows[0][0] + warmup), None)
            if begin is not None:
                done = [r for r in ends if r[0] - begin[0] >= seconds]
                if done or rows[-1][0] - begin[0] >= 3 * seconds:
                    end = done[0] if done else rows[-1]
                    break
            time.sleep(1.0)
    finally:
        _stop(proc, grace=60.0)
    return {"steps_per_s": (end[1] - begin[1]) / (end[0] - begin[0]), "window_s": round(end[0] - begin[0], 1),
            "window_steps": end[1] - begin[1], "whole_rollouts": end[1] % rollout == 0,
            "first_update_s": round(rows[0][0], 1)}


def _systems(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    if not names or any(s not in SYSTEMS for s in names):
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {','.join(SYSTEMS)}")
    return names


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=100.0, help="measured seconds per system and resolution")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds after the first progress report left out")
    p.add_argument("--resolutions", type=int, nargs="+", default=[32, 64])
    p.add_argument("--only", type=_systems, default=CORE, help=f"comma-separated subset of {','.join(SYSTEMS)} "
                   f"(default: {','.join(CORE)}, ~20 min)")
    p.add_argument("--all", action="store_true", help="every system, the variants of ours too (~40 min at --seconds 60)")
    p.add_argument("--quick", action="store_true", help="smoke test: --seconds 15 --warmup 5")
    p.add_argument("--keep", type=Path, default=None, help="keep the logs and runs in this directory")
    a = p.parse_args(argv)
    if a.quick:
        a.seconds, a.warmup = 15.0, 5.0
    if a.all:
        a.only = SYSTEMS
    if {"sf", "sb3"} & set(a.only):
        build_sideenvs()
    root = sideenv_root()
    out: dict = {"seconds": a.seconds, "warmup": a.warmup, "cpus": os.cpu_count(),
                 "load_avg_1m_start": round(os.getloadavg()[0], 2), "windows": {}}
    work = Path(a.keep or tempfile.mkdtemp(prefix="peer_throughput_"))
    work.mkdir(parents=True, exist_ok=True)
    side_env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    for r in a.resolutions:
        for system in ("sf", "sb3", *VARIANTS):
            if system not in a.only:
                continue
            key = f"{system}_{r}"
            print(f"measuring {key} ...", file=sys.stderr)
            load = os.getloadavg()[0]
            if system == "sf":
                cmd = [str(root / "peer-sf" / "bin" / "python"), str(PEER / "sf_house.py"), f"--resolution={r}",
                       f"--train_dir={work / key}"]
                res = measure_peer(cmd, SF_FRAMES, work / f"{key}.log", a.seconds, a.warmup, side_env, work, SF_READY)
            elif system == "sb3":
                cmd = [str(root / "peer-sb3" / "bin" / "python"), str(PEER / "sb3_house.py"), f"--resolution={r}"]
                res = measure_peer(cmd, SB3_PROGRESS, work / f"{key}.log", a.seconds, a.warmup, side_env, work)
            else:
                res = measure_ours([*OURS, *VARIANTS[system], f"env.resolution={r}"], work, key, a.seconds, a.warmup)
            res["load_avg_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            out[f"{system}_steps_per_s_{r}"] = round(res.pop("steps_per_s"), 1)
            out["windows"][key] = res
            print(f"{key}: {out[f'{system}_steps_per_s_{r}']} env steps/s {res}", file=sys.stderr)
        for ours in VARIANTS:
            if f"{ours}_steps_per_s_{r}" in out and f"sf_steps_per_s_{r}" in out:
                out[f"{ours}_over_sf_{r}"] = round(out[f"{ours}_steps_per_s_{r}"] / out[f"sf_steps_per_s_{r}"], 3)
    for system, overrides in (("default", []), ("default_inprocess", ["cluster=inprocess"])):
        if system not in a.only:
            continue
        key = f"ours_{system}"
        print(f"measuring {key} (embodied train {' '.join(overrides) or 'with its default config'}) ...", file=sys.stderr)
        load = os.getloadavg()[0]
        res = measure_ours(overrides, work, key, a.seconds, a.warmup)
        res["load_avg_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        out[f"{key}_steps_per_s"] = round(res.pop("steps_per_s"), 1)
        out["windows"][key] = res
    if "ours_default_steps_per_s" in out and "sf_steps_per_s_32" in out:
        out["ours_default_over_sf_32"] = round(out["ours_default_steps_per_s"] / out["sf_steps_per_s_32"], 3)
    if "ours_default_steps_per_s" in out and "ours_default_inprocess_steps_per_s" in out:
        out["ours_default_local_over_inprocess"] = round(
            out["ours_default_steps_per_s"] / out["ours_default_inprocess_steps_per_s"], 3)
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    if a.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
