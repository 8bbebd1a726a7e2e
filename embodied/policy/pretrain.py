"""Pretraining the visual encoder on what the simulator knows about each frame (envs/house/perception.py).

An agent that must learn to see from reward alone needs far more env steps than a 2-core CPU gives in
minutes. So, as ObjectNav agents start from a pretrained vision model, we pretrain the small CNN to
predict from one frame which object categories are in view, in which third of the image, whether stopping
would succeed for each, and whether the way ahead is free; the policy then uses it frozen and rollouts store
its features. Frames come from house train houses (an oracle walk with random detours); the held-out
scores come from val houses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from embodied.policy.encoders import VisualEncoder
from embodied.atomic import write_atomic

MAX_POS_WEIGHT = 10.0


@dataclass
class Frames:
    """Frames ``rgb`` (F, r, r, 3) uint8 and ``depth`` (F, r, r, 1) float32 with their ``labels`` (F, L)."""
    rgb: np.ndarray
    depth: np.ndarray
    labels: np.ndarray


def collect(num_frames: int, resolution: int, split: str, seed: int, num_envs: int = 16, detour: float = 0.3,
            max_steps: int = 64, progress: bool = False) -> Frames:
    """Frames of house ``split`` along oracle walks that take a random move with probability ``detour``."""
    import envs.house
    from envs.house.perception import NUM_LABELS
    from envs.house.task import NUM_ACTIONS

    env = envs.house.make(num_envs=num_envs, split=split, seed=seed, resolution=resolution, max_steps=max_steps)
    rng = np.random.default_rng(seed)
    out = Frames(np.empty((num_frames, resolution, resolution, 3), np.uint8),
                 np.empty((num_frames, resolution, resolution, 1), np.float32),
                 np.empty((num_frames, NUM_LABELS), np.float32))
    obs, filled = env.reset(), 0
    from tqdm import tqdm

    with tqdm(total=num_frames, desc=f"frames ({split})", unit="frame", disable=not progress) as bar:
        while filled < num_frames:
            k = min(num_envs, num_frames - filled)
            out.rgb[filled:filled + k] = obs["rgb"][:k]
            out.depth[filled:filled + k] = obs["depth"][:k]
            out.labels[filled:filled + k] = env.perception_labels()[:k]
            filled += k
            bar.update(k)
            action = env.oracle_action()
            move = rng.random(num_envs) < detour
            action[move] = rng.integers(1, NUM_ACTIONS, int(move.sum()))  # any action but stop
            obs, _, _, _ = env.step({"action": action})
    return out


def _goals(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A goal category per frame: half the time one that is in view (when any is), else any category."""
    from envs.house.categories import NUM_CATEGORIES

    seen = labels[:, :4 * NUM_CATEGORIES].reshape(len(labels), 4, NUM_CATEGORIES).max(1)
    score = rng.random(seen.shape) + seen * (rng.random((len(labels), 1)) < 0.5)
    return score.argmax(1)


def features_and_targets(encoder: VisualEncoder, frames: Frames, idx: np.ndarray,
                         rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(encoder features, targets)`` of frames ``idx``: every label, or for a goal-conditioned encoder the
    labels of a drawn goal (its stop, left, centre, right) and ``free``."""
    from envs.house.categories import NUM_CATEGORIES

    rgb, depth, labels = (torch.from_numpy(a[idx]) for a in (frames.rgb, frames.depth, frames.labels))
    if not encoder.goal_conditioned:
        return encoder({"rgb": rgb, "depth": depth}), labels
    goal = _goals(frames.labels[idx], rng)
    cols = torch.from_numpy(np.stack([goal + g * NUM_CATEGORIES for g in range(4)] + [np.full_like(goal, -1)], 1))
    onehot = nn.functional.one_hot(torch.from_numpy(goal), NUM_CATEGORIES).float()
    return encoder({"rgb": rgb, "depth": depth}, onehot), labels.gather(1, cols % labels.shape[1])


@torch.no_grad()
def scores(encoder: VisualEncoder, head: nn.Linear, frames: Frames, batch: int = 1024, seed: int = 0) -> dict[str, float]:
    """Held-out F1 of each label group (pooled over categories) and the accuracy of ``free``."""
    from envs.house.perception import GROUPS

    encoder.eval()
    rng, pred, true = np.random.default_rng(seed), [], []
    for lo in range(0, len(frames.labels), batch):
        feats, targets = features_and_targets(encoder, frames, np.arange(lo, min(lo + batch, len(frames.labels))), rng)
        pred.append((head(feats) > 0).numpy())
        true.append(targets.numpy() > 0.5)
    p, y = np.concatenate(pred), np.concatenate(true)
    c = (p.shape[1] - 1) // len(GROUPS)
    out = {}
    for g, name in enumerate(GROUPS):
        pg, yg = p[:, g * c:(g + 1) * c], y[:, g * c:(g + 1) * c]
        tp = float((pg & yg).sum())
        out[f"{name}_f1"] = 2 * tp / max(1.0, float(pg.sum() + yg.sum()))
    out["free_accuracy"] = float((p[:, -1] == y[:, -1]).mean())
    return out


def train(encoder: VisualEncoder, data: Frames, held_out: Frames, steps: int, batch: int, lr: float,
          seed: int, progress: bool = False) -> dict[str, Any]:
    """Fit ``encoder`` plus a linear head on ``data`` with binary cross-entropy; scores on ``held_out``.

    Positives are rare (a category is in view in a few percent of frames), so each label's positives weigh
    its negative-to-positive ratio (at most ``MAX_POS_WEIGHT``): the features must separate them, not just
    predict "absent"."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    _, probe = features_and_targets(encoder, data, rng.integers(0, len(data.labels), 4096), rng)
    pos = probe.mean(0).numpy()
    pos_weight = torch.from_numpy(np.clip((1 - pos) / np.maximum(pos, 1e-6), 1.0, MAX_POS_WEIGHT)).float()
    head = nn.Linear(encoder.feature_dim, probe.shape[1])
    params = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.05)
    losses = []
    encoder.train()
    for _ in tqdm(range(steps), desc="pretraining", unit="step", disable=not progress):
        feats, targets = features_and_targets(encoder, data, rng.integers(0, len(data.labels), batch), rng)
        loss = nn.functional.binary_cross_entropy_with_logits(head(feats), targets, pos_weight=pos_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    result = scores(encoder, head, held_out, seed=seed)
    result["final_loss"] = float(np.mean(losses[-100:]))
    return result


def save(encoder: VisualEncoder, path: Path, report: dict[str, Any]) -> None:
    """The encoder's state dict at ``path`` and ``report`` beside it as ``<path>.json``, each written atomically."""
    write_atomic(path, lambda tmp: torch.save(encoder.state_dict(), tmp))
    write_atomic(path.with_suffix(".json"), json.dumps(report, indent=2))
