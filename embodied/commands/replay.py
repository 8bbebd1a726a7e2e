"""``embodied replay EPISODE... --out DIR [key=value ...]``: episode files (or folders of them) → MP4s + gallery.

``key=value`` overrides configs/replay.yaml (size, fps, qp, preset, attention, verify, max_depth, gallery).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from omegaconf import DictConfig

from embodied.config import check, load, positive_int


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="embodied replay", description=__doc__.splitlines()[0])
    parser.add_argument("episodes", nargs="+", metavar="EPISODE", help="episode files or folders of them")
    parser.add_argument("--out", required=True, help="output folder for the MP4s and index.html")
    args = parser.parse_intermixed_args(argv)
    keys = set(load("replay").keys())
    overrides = [a for a in args.episodes if "=" in a and a.split("=", 1)[0] in keys]
    args.episodes = [a for a in args.episodes if a not in overrides]
    if not args.episodes:
        parser.error("no EPISODE given")
    return args, overrides


def _validate(cfg: DictConfig) -> None:
    positive_int(cfg, "size")
    check(cfg, "size", lambda v: v % 2 == 0 and v >= 32, "an even number of pixels >= 32")
    positive_int(cfg, "fps")
    check(cfg, "qp", lambda v: isinstance(v, int) and 0 <= v <= 51, "an integer in [0, 51]")
    check(cfg, "preset", lambda v: v in ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                         "slow", "slower", "veryslow"), "an x264 preset such as veryfast")
    check(cfg, "max_depth", lambda v: isinstance(v, (int, float)) and v > 0, "a positive number of metres")


def main(argv: list[str]) -> int:
    from rich.progress import Progress

    from embodied.replay.episode_file import EpisodeFileError, find
    from embodied.replay.gallery import write_gallery
    from embodied.replay.replayer import ReplayDivergence, replay

    args, overrides = _parse(argv)
    cfg = load("replay", overrides)
    _validate(cfg)
    out = Path(args.out)
    try:
        files = find(args.episodes)
    except EpisodeFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results, failed = [], 0
    with Progress() as bar:
        task = bar.add_task("replaying", total=len(files))
        for f in files:
            target = out / (f.stem + ".mp4")
            try:
                results.append(replay(f, target, size=cfg.size, fps=cfg.fps, qp=cfg.qp, preset=cfg.preset,
                                      attention=cfg.attention, verify=cfg.verify, max_depth=float(cfg.max_depth)))
            except (EpisodeFileError, ReplayDivergence, ValueError) as e:
                failed += 1
                print(f"error: {e}", file=sys.stderr)
            bar.advance(task)
    if cfg.gallery and results:
        print(f"gallery: {write_gallery(results, out / 'index.html')}")
    print(f"{len(results)} videos in {out}" + (f", {failed} episodes failed" if failed else ""))
    return 1 if failed else 0
