"""``embodied pretrain [key=value ...]``: pretrain the visual encoder on house frames; see configs/pretrain.yaml."""
from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from embodied.config import check, choice, positive_int


def run(cfg: DictConfig) -> int:
    import torch

    from embodied.policy import pretrain
    from embodied.policy.encoders import ENCODERS, VisualEncoder
    from envs.house.categories import NUM_CATEGORIES

    for key in ("resolution", "frames", "held_out_frames", "steps", "batch", "threads", "encoder.feature_dim",
                "encoder.grid"):
        positive_int(cfg, key)
    check(cfg, "lr", lambda v: isinstance(v, (int, float)) and v > 0, "a positive number")
    check(cfg, "detour", lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "a number in [0, 1]")
    check(cfg, "out", lambda v: isinstance(v, str) and v.endswith(".pt"), "a path ending in .pt")
    check(cfg, "encoder.goal", lambda v: isinstance(v, bool), "true or false")
    enc = cfg.encoder
    images = {"rgb": 3, **({"depth": 1} if enc.use_depth else {})}
    encoder = VisualEncoder(choice(cfg, "encoder.name", ENCODERS), enc.feature_dim, images, list(enc.channels),
                            grid=enc.grid, goal_size=NUM_CATEGORIES if enc.goal else 0)
    torch.set_num_threads(int(cfg.threads))
    start = time.monotonic()
    data = pretrain.collect(cfg.frames, cfg.resolution, "train", cfg.seed, detour=cfg.detour, progress=cfg.progress)
    held_out = pretrain.collect(cfg.held_out_frames, cfg.resolution, "val", cfg.seed + 1, detour=cfg.detour,
                                progress=cfg.progress)
    result = pretrain.train(encoder, data, held_out, cfg.steps, cfg.batch, cfg.lr, cfg.seed, cfg.progress)
    report = {"config": OmegaConf.to_container(cfg, resolve=True), "held_out": result,
              "wall_s": round(time.monotonic() - start, 1)}
    out = Path(cfg.out)
    pretrain.save(encoder, out, report)
    print(" ".join(f"{k}={v:.3f}" for k, v in result.items()), f"wall_s={report['wall_s']}")
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0
