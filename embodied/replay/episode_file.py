"""Episode files: one recorded episode, compact enough to keep thousands, exact enough to re-simulate.

An episode is stored as its *spec* (what the simulator needs to restart exactly that episode: scene
seed, split, start pose, goal, ...), the actions taken, and per-step reward and agent pose; frames and
attention are optional. Replaying the actions from the spec reproduces the observations bit for bit,
so frames are only needed when the simulator may change.

Layout (all integers little-endian)::

    MAGIC (8 bytes) | version u16 | header length u32 | header JSON | payload (NPZ) | SHA-256 (32 bytes)

The header holds the JSON-able fields and the payload length; the payload is an ``np.savez_compressed``
archive of the arrays; the trailing SHA-256 covers every byte before it. A missing, truncated, foreign,
corrupted or newer-version file raises :class:`EpisodeFileError` naming the file and the problem.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from embodied.atomic import write_atomic

MAGIC = b"EMBDEPI\n"
VERSION = 1
SUFFIX = ".episode"
_FIXED = struct.Struct("<HI")
_DIGEST = 32


class EpisodeFileError(ValueError):
    """An episode file that cannot be read; the message names the file and what is wrong."""


@dataclasses.dataclass
class Episode:
    """One recorded episode.

    ``actions[t]`` was taken at observation ``t``; ``rewards[t]`` came with it; ``poses[t]`` is the agent
    pose (x, y, heading, ...) at observation ``t``, so all three have one row per step. ``metrics`` are the
    end-of-episode metrics from the env's ``info``. ``frames`` optionally holds per-step observations
    (e.g. ``{"rgb": (T, H, W, 3) uint8}``). ``attention`` optionally holds, per step, the world positions
    (``(T, k, 2)``) of the k past steps of the trial that the policy attended to most and their mass
    (``(T, k)``; zero-padded).
    """

    backend: str
    spec: dict[str, Any]
    actions: np.ndarray
    rewards: np.ndarray
    poses: np.ndarray
    metrics: dict[str, float]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    frames: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    attention_pos: np.ndarray | None = None
    attention_mass: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.actions = np.asarray(self.actions, np.int64)
        self.rewards = np.asarray(self.rewards, np.float32)
        self.poses = np.asarray(self.poses, np.float32)
        n = len(self.actions)
        if len(self.rewards) != n or len(self.poses) != n:
            raise ValueError(f"episode arrays disagree in length: actions {n}, rewards {len(self.rewards)}, "
                             f"poses {len(self.poses)}")
        if (self.attention_pos is None) != (self.attention_mass is None):
            raise ValueError("attention_pos and attention_mass must be given together")

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def success(self) -> bool:
        return bool(self.metrics.get("success", 0.0) >= 0.5)


def _payload(ep: Episode) -> bytes:
    arrays = {"actions": ep.actions, "rewards": ep.rewards, "poses": ep.poses}
    arrays.update({f"frames/{k}": v for k, v in ep.frames.items()})
    if ep.attention_pos is not None:
        arrays["attention_pos"] = np.asarray(ep.attention_pos, np.float32)
        arrays["attention_mass"] = np.asarray(ep.attention_mass, np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def to_bytes(ep: Episode) -> bytes:
    payload = _payload(ep)
    header = json.dumps({
        "backend": ep.backend, "spec": ep.spec, "metrics": ep.metrics, "meta": ep.meta,
        "steps": len(ep), "payload_bytes": len(payload),
    }, sort_keys=True, allow_nan=True).encode()
    body = MAGIC + _FIXED.pack(VERSION, len(header)) + header + payload
    return body + hashlib.sha256(body).digest()


def write(ep: Episode, path: str | os.PathLike) -> Path:
    """Write ``ep`` to ``path`` atomically (temp file in the same folder, then rename)."""
    return write_atomic(path, to_bytes(ep))


def from_bytes(data: bytes, name: str = "<bytes>") -> Episode:
    """Parse and verify an episode file's bytes; ``name`` is used in error messages."""
    def fail(what: str) -> EpisodeFileError:
        return EpisodeFileError(f"episode file {name}: {what}")

    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        raise fail("not an embodied episode file (wrong magic bytes at the start)")
    start = len(MAGIC) + _FIXED.size
    if len(data) < start:
        raise fail(f"truncated: {len(data)} bytes, shorter than the fixed header")
    version, header_len = _FIXED.unpack_from(data, len(MAGIC))
    if version > VERSION:
        raise fail(f"format version {version} is newer than this reader (supports up to {VERSION}); "
                   "upgrade embodied")
    if version < 1:
        raise fail(f"invalid format version {version}")
    if len(data) < start + header_len:
        raise fail(f"truncated: header needs {header_len} bytes, only {len(data) - start} present")
    try:
        header = json.loads(data[start:start + header_len])
        payload_len = int(header["payload_bytes"])
    except (ValueError, KeyError, TypeError) as e:
        raise fail(f"corrupted header ({e})") from None
    expected = start + header_len + payload_len + _DIGEST
    if len(data) < expected:
        raise fail(f"truncated: expected {expected} bytes, found {len(data)}")
    if len(data) > expected:
        raise fail(f"{len(data) - expected} unexpected bytes after the checksum")
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise fail("checksum mismatch: the file is corrupted")
    payload = data[start + header_len:-_DIGEST]
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return Episode(
        backend=header["backend"], spec=header["spec"], metrics=header["metrics"], meta=header["meta"],
        actions=arrays["actions"], rewards=arrays["rewards"], poses=arrays["poses"],
        frames={k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("frames/")},
        attention_pos=arrays.get("attention_pos"), attention_mass=arrays.get("attention_mass"))


def read(path: str | os.PathLike) -> Episode:
    """Read and verify one episode file."""
    path = Path(path)
    if not path.exists():
        raise EpisodeFileError(f"episode file {path}: does not exist")
    if not path.is_file():
        raise EpisodeFileError(f"episode file {path}: is not a regular file")
    return from_bytes(path.read_bytes(), str(path))


def find(paths: list[str | os.PathLike]) -> list[Path]:
    """Expand folders into the episode files they hold (sorted); files are kept as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob(f"*{SUFFIX}"))
            if not found:
                raise EpisodeFileError(f"folder {p} holds no *{SUFFIX} files")
            out += found
        else:
            out.append(p)
    return out
