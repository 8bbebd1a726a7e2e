"""Can a stored frame tell a later episode where its goal was? A linear probe on the frozen encoders' features.

In-context learning on houses with a new goal every episode (DESIGN's task) asks the policy to recall, from
the frames of earlier episodes, where the *current* goal category was seen. A frozen encoder's features are
all that the context keeps of a frame. This probe asks whether those features say "category c is in view"
for a category c other than the goal the frame was encoded for, as a later episode would need:

- ``goal_conditioned``: the shipped ``house_cnn32`` (FiLM-conditioned on the goal), a frame encoded with
  the goal of its own episode g and probed for another category c != g;
- ``own_goal``: the same encoder probed for its own goal g (what it was built to say: the reference);
- ``goal_free``: ``house_cnn32_all`` (no goal input), probed for c;
- ``untrained``: a randomly initialised goal-free CNN, probed for c (the floor).

The probe is one logistic-regression readout per category (logit_c = w_c . features + b_c, the kind of match
an attention query for category c can make), fitted on frames of train houses, scored by F1 on frames of val
houses. ``python benchmarks/memory_features.py`` (~2 minutes); the last line of stdout is one JSON object with
``<name>_in_view_f1`` per encoder.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from embodied.atomic import write_atomic
from embodied.policy import pretrain
from embodied.policy.encoders import VisualEncoder
from envs.house.categories import NUM_CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
CNN = {"name": "cnn", "feature_dim": 128, "image_keys": {"rgb": 3, "depth": 1}, "channels": [16, 32, 64], "grid": 4}


def in_view(labels: np.ndarray) -> np.ndarray:
    """(F, C) bool: an instance of each category projects into some third of the image (or stopping succeeds)."""
    return labels[:, :4 * NUM_CATEGORIES].reshape(len(labels), 4, NUM_CATEGORIES).max(1) > 0.5


def draw(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per frame the goal of its episode g (in view half the time when any category is) and a later goal c != g
    (in view half the time when another category is, so that both answers occur)."""
    seen = in_view(labels)
    g = (rng.random(seen.shape) + seen * (rng.random((len(seen), 1)) < 0.5)).argmax(1)
    score = rng.random(seen.shape) + seen * (rng.random((len(seen), 1)) < 0.5)
    score[np.arange(len(g)), g] = -1.0
    return g, score.argmax(1)


@torch.no_grad()
def features(encoder: VisualEncoder, frames: pretrain.Frames, goal: np.ndarray | None, batch: int = 2048) -> torch.Tensor:
    out = []
    for lo in range(0, len(frames.labels), batch):
        s = slice(lo, lo + batch)
        images = {"rgb": torch.from_numpy(frames.rgb[s]), "depth": torch.from_numpy(frames.depth[s])}
        onehot = None if goal is None else torch.nn.functional.one_hot(torch.from_numpy(goal[s]), NUM_CATEGORIES).float()
        out.append(encoder(images, onehot).float())
    return torch.cat(out)


def probe_f1(x_train: torch.Tensor, c_train: np.ndarray, y_train: np.ndarray, x_test: torch.Tensor,
             c_test: np.ndarray, y_test: np.ndarray, steps: int = 400, seed: int = 0) -> float:
    """F1 on the test frames of per-category logistic readouts ``w_c . x + b_c`` fitted on the train frames."""
    torch.manual_seed(seed)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    head = torch.nn.Linear(x_train.shape[1], NUM_CATEGORIES)
    opt = torch.optim.Adam(head.parameters(), lr=0.02)
    ct, yt = torch.from_numpy(c_train), torch.from_numpy(y_train.astype(np.float32))
    weight = ((1 - yt.mean()) / yt.mean().clamp_min(1e-3)).clamp(1, 10)
    for _ in range(steps):
        logit = head(x_train).gather(1, ct[:, None]).squeeze(1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, yt, pos_weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = head(x_test).gather(1, torch.from_numpy(c_test)[:, None]).squeeze(1).numpy() > 0
    return 2 * float((pred & y_test).sum()) / max(1.0, float(pred.sum() + y_test.sum()))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="train-house frames for fitting the probes")
    parser.add_argument("--test-frames", type=int, default=5000, help="val-house frames for scoring them")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "memory_features.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    train = pretrain.collect(args.frames, 32, "train", args.seed)
    test = pretrain.collect(args.test_frames, 32, "val", args.seed + 1)
    (g_train, c_train), (g_test, c_test) = draw(train.labels, rng), draw(test.labels, rng)
    seen_train, seen_test = in_view(train.labels), in_view(test.labels)
    rows_train, rows_test = np.arange(len(g_train)), np.arange(len(g_test))

    def score(encoder: VisualEncoder, goal: bool, probes: tuple[str, ...]) -> list[float]:
        """F1 of each probe (``"later"``: another category c, ``"own"``: the frame's goal g) on one encoding."""
        x_train, x_test = (features(encoder, f, g if goal else None) for f, g in ((train, g_train), (test, g_test)))
        out = []
        for probe in probes:
            ct, cs = (g_train, g_test) if probe == "own" else (c_train, c_test)
            out.append(probe_f1(x_train, ct, seen_train[rows_train, ct], x_test, cs, seen_test[rows_test, cs],
                                seed=args.seed))
        return out

    torch.manual_seed(args.seed)
    conditioned = VisualEncoder(**CNN, goal_size=NUM_CATEGORIES, weights="house_cnn32").eval()
    later_conditioned, own = score(conditioned, True, ("later", "own"))
    [goal_free] = score(VisualEncoder(**CNN, weights="house_cnn32_all").eval(), False, ("later",))
    [untrained] = score(VisualEncoder(**CNN).eval(), False, ("later",))
    result = {
        "goal_conditioned_in_view_f1": later_conditioned, "own_goal_in_view_f1": own,
        "goal_free_in_view_f1": goal_free, "untrained_in_view_f1": untrained,
        "frames": args.frames, "test_frames": args.test_frames, "seed": args.seed,
        "later_goal_in_view_rate": float(seen_test[rows_test, c_test].mean()),
    }
    result = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
