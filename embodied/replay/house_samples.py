"""Write the sample images the README shows: what the agent sees (RGB and depth) and the top-down map.

    python -m embodied.replay.house_samples [--out envs/house/images] [--split test] [--seed 3]

Runs the oracle through one episode of an unseen house at 128 px and saves four first-person views
(``first_person.png``), their depth (``depth.png``), a single 128 px frame (``rgb_128.png``) and the
top-down map with the path taken (``topdown.png``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import envs.house
from embodied.replay.frames import depth_image
from embodied.replay.video import write_png


def sample(split: str = "test", seed: int = 3, resolution: int = 128, views: int = 4):
    """(RGB views, depth views, top-down map) from one oracle episode."""
    env = envs.house.make(num_envs=1, split=split, seed=seed, resolution=resolution)
    obs = env.reset()
    rgbs, depths = [obs["rgb"][0]], [obs["depth"][0]]
    top = env.render_topdown(0, size=512)
    while True:
        top = env.render_topdown(0, size=512)
        obs, _, done, _ = env.step({"action": env.oracle_action()})
        if done[0]:
            break
        rgbs.append(obs["rgb"][0])
        depths.append(obs["depth"][0])
    pick = np.linspace(0, len(rgbs) - 1, views).round().astype(int)
    return [rgbs[i] for i in pick], [depths[i] for i in pick], top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(envs.house.__file__).parent / "images"))
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rgbs, depths, top = sample(args.split, args.seed)
    gap = np.full((rgbs[0].shape[0], 4, 3), 255, np.uint8)
    strip = lambda images: np.concatenate([x for img in images for x in (img, gap)][:-1], 1)  # noqa: E731
    write_png(out / "first_person.png", strip(rgbs))
    write_png(out / "depth.png", strip([depth_image(d, 8.0) for d in depths]))
    write_png(out / "rgb_128.png", rgbs[-1])
    write_png(out / "topdown.png", top)
    print(f"wrote {', '.join(p.name for p in sorted(out.glob('*.png')))} to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
