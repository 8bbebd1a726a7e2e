"""Time of one call of the default house encoder (the pretrained goal-conditioned CNN, 32 px RGB-D), one thread.

``call_us_8``: the frozen encoder's ``features`` on 8 frames, what the local-Ray env worker runs every step;
``call_us_16``: on 16 frames (in-process, one call for all envs); ``train_ms_512``: forward and backward on 512
frames, as an update with a trained encoder runs it. Medians of alternating rounds. With ``--against FILE``
(another version of ``embodied/policy/encoders.py``, e.g. from ``git show REV:embodied/policy/encoders.py``) the
two alternate round by round and the JSON also has ``against`` and the ratios new / against; outputs are checked
equal first. Pin it to a free core for figures that mean something (``taskset -c 1``).

    python benchmarks/encoder_call.py [--rounds 9] [--against /tmp/encoders_old.py]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import torch

import embodied.policy.encoders as current

WEIGHTS = Path(current.__file__).parent / "weights" / "house_cnn32.pt"


def load_module(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("encoders_against", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def observations(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"rgb": rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            "depth": rng.random((n, 32, 32, 1), dtype=np.float32),
            "goal": np.eye(20, dtype=np.float32)[rng.integers(0, 20, n)]}


def cases(module: ModuleType) -> dict[str, tuple[Callable[[], object], int]]:
    """name -> (one call, calls per round) for one version of the encoder module."""
    def encoder(frozen: bool):
        return module.VisualEncoder("cnn", 128, {"rgb": 3, "depth": 1}, [16, 32, 64], grid=4, goal_size=20,
                                    frozen=frozen, weights=str(WEIGHTS))
    rng = np.random.default_rng(0)
    frozen = encoder(True).eval()
    obs8, obs16 = observations(8, rng), observations(16, rng)
    batch = {k: torch.as_tensor(v) for k, v in observations(512, rng).items()}
    trained = encoder(False)

    def train_step():
        out = trained({"rgb": batch["rgb"], "depth": batch["depth"]}, batch["goal"])
        out.square().mean().backward()
        grads = [p.grad.clone() for p in trained.parameters()]
        trained.zero_grad()
        return out.detach(), grads

    return {"call_us_8": (lambda: frozen.features(obs8), 200), "call_us_16": (lambda: frozen.features(obs16), 200),
            "train_ms_512": (train_step, 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--against", help="another encoders.py to alternate with")
    args = parser.parse_args()
    torch.set_num_threads(1)
    versions = {"new": cases(current)}
    if args.against:
        versions["against"] = cases(load_module(args.against))
        for name, (call, _) in versions["new"].items():
            try:
                torch.testing.assert_close(call(), versions["against"][name][0](), atol=1e-4, rtol=1e-3)
            except AssertionError as e:
                raise SystemExit(f"--against {args.against}: its {name} outputs differ from this encoder's, so the two "
                                 f"do not compute the same thing: {str(e).splitlines()[0]}") from None
    times: dict[str, dict[str, list[float]]] = {v: {k: [] for k in versions["new"]} for v in versions}
    for name in versions["new"]:
        for v in versions:
            for _ in range(3):
                versions[v][name][0]()
        scale = 1e3 if name.endswith("_ms_512") else 1e6
        for _ in range(args.rounds):
            for v, version in versions.items():
                call, reps = version[name]
                start = time.perf_counter()
                for _ in range(reps):
                    call()
                times[v][name].append((time.perf_counter() - start) / reps * scale)
        print(name, {v: round(float(np.median(t[name])), 1) for v, t in times.items()}, flush=True)
    result = {name: round(float(np.median(t)), 1) for name, t in times["new"].items()}
    if args.against:
        result["against"] = {name: round(float(np.median(t)), 1) for name, t in times["against"].items()}
        result["new_over_against"] = {name: round(result[name] / result["against"][name], 3) for name in times["new"]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
