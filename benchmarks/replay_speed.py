"""Replay speed: video frames written per second (re-simulation + drawing + H.264 encoding) on ONE core.

Records oracle episodes on test houses (not timed), then replays them into MP4s with 256 px panels
(RGB | depth | top-down, HUD below: 768x288 frames) pinned to one CPU core with single-threaded
OpenCV / x264. Prints a JSON object on the last line: ``video_fps_256`` (target >= 300) = frames per
second of the process's CPU time (what one dedicated core delivers; on a shared, oversubscribed
machine wall time also counts other processes' turns, so ``video_fps_256_wall`` is given beside it
with the load average), and the per-stage split (CPU ms per frame) measured on the same frames. Every
episode is replayed ``--passes`` times so the timing spans seconds, not a fraction of one.

Encoding is what ``replay`` does by default (constant quantiser 20) unless ``--crf`` or ``--qp`` is given.

Usage: python benchmarks/replay_speed.py [--episodes 12] [--passes 3] [--preset ultrafast] [--size 256]
       [--qp Q | --crf C]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--preset", default="ultrafast")
    quality = ap.add_mutually_exclusive_group()
    quality.add_argument("--qp", type=int, help="constant quantiser (replay's default rate control)")
    quality.add_argument("--crf", type=int, help="constant rate factor instead")
    args = ap.parse_args()
    if args.episodes < 1 or args.passes < 1:
        ap.error("--episodes and --passes must be at least 1")
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import cv2
    from rich.progress import track

    import envs
    from embodied.replay import frames as fr
    from embodied.replay.episode_file import read
    from embodied.replay.recorder import EpisodeRecorder
    from embodied.replay.replayer import StepRenderer, replay, simulate
    from embodied.replay.video import DEFAULT_QP, VideoWriter

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = envs.make("house", num_envs=4, split="test", seed=11, episodes_per_trial=4, resolution=64)
        rec = EpisodeRecorder(tmp / "eps", which="all")
        obs = env.reset(seed=11)
        rec.reset(env, obs)
        while len(rec.written) < args.episodes:
            action = env.oracle_action()
            obs, reward, _, info = env.step({"action": action})
            rec.step(env, action, obs, reward, info)
        files = rec.written[:args.episodes]
        replay(files[0], tmp / "warmup.mp4", size=args.size, preset=args.preset)  # JIT and codec warm-up

        frames, start, cpu = 0, time.perf_counter(), time.process_time()
        for i, f in enumerate(track(files * args.passes, description="replaying")):
            frames += replay(f, tmp / f"{i}.mp4", size=args.size, preset=args.preset, crf=args.crf,
                             qp=args.qp).frames
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

        # The same work split into stages (simulation, drawing, encoding) to show where the time goes.
        sim = draw = enc = 0.0
        per_pass = frames // args.passes
        for i, f in enumerate(files):
            ep = read(f)
            t0 = time.process_time()
            steps = [(t, env_, {k: v.copy() for k, v in o.items()}, total, env_.episode_path(0))
                     for t, env_, o, total in simulate(ep, str(f))]
            t1 = time.process_time()
            images = []
            for t, env_, o, total, path in steps:
                renderer = StepRenderer(env_, ep, args.size) if t == 0 else renderer
                images.append(renderer.render(o, t, total, path).copy())
            t2 = time.process_time()
            with VideoWriter(tmp / f"s{i}.mp4", preset=args.preset, crf=args.crf, qp=args.qp) as w:
                for img in images:
                    w.write(img)
            t3 = time.process_time()
            sim, draw, enc = sim + t1 - t0, draw + t2 - t1, enc + t3 - t2
    h, w, _ = fr.frame_shape(args.size)
    key = f"video_fps_{args.size}"
    print(json.dumps({key: round(frames / cpu, 1), f"{key}_wall": round(frames / seconds, 1),
                      "target_fps": 300, "frames": frames, "episodes": len(files),
                      "passes": args.passes, "cpu_seconds": round(cpu, 3),
                      "wall_seconds": round(seconds, 3),
                      "frame_size": [w, h], "panel_px": args.size, "preset": args.preset,
                      "rate_control": f"crf {args.crf}" if args.crf is not None
                      else f"qp {DEFAULT_QP if args.qp is None else args.qp}",
                      "cores": 1, "ms_per_frame": {"simulate": round(1e3 * sim / per_pass, 3),
                                                   "draw": round(1e3 * draw / per_pass, 3),
                                                   "encode": round(1e3 * enc / per_pass, 3)},
                      "load_average_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
