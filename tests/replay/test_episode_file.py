"""Episode files: exact round trip, and a clear error for every way a file can be unreadable."""
from __future__ import annotations

import os

import numpy as np
import pytest

from embodied.replay import episode_file as ef


def _episode(rng: np.random.Generator, steps: int = 37, frames: bool = True, attention: bool = True) -> ef.Episode:
    return ef.Episode(
        backend="house", spec={"house_seed": int(rng.integers(1 << 30)), "split": "test", "start": [1.5, 2.25, 90.0]},
        actions=rng.integers(0, 6, steps), rewards=rng.normal(size=steps).astype(np.float32),
        poses=rng.normal(size=(steps, 4)), metrics={"success": 1.0, "spl": 0.8, "distance_to_goal": float("nan")},
        meta={"policy": "oracle", "trial": 3, "episode_index": 2},
        frames={"rgb": rng.integers(0, 256, (steps, 8, 8, 3), dtype=np.uint8)} if frames else {},
        attention_pos=rng.normal(size=(steps, 5, 2)) if attention else None,
        attention_mass=rng.random((steps, 5)) if attention else None)


@pytest.mark.parametrize("frames,attention", [(True, True), (False, False)])
def test_round_trip_is_exact(tmp_path, frames, attention):
    rng = np.random.default_rng(1)
    ep = _episode(rng, frames=frames, attention=attention)
    path = ef.write(ep, tmp_path / "a" / f"x{ef.SUFFIX}")
    back = ef.read(path)
    assert back.spec == ep.spec and back.meta == ep.meta and back.backend == "house"
    assert back.metrics["spl"] == 0.8 and np.isnan(back.metrics["distance_to_goal"])
    for name in ("actions", "rewards", "poses"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ep, name))
    assert set(back.frames) == set(ep.frames)
    for k in ep.frames:
        np.testing.assert_array_equal(back.frames[k], ep.frames[k])
    if attention:
        np.testing.assert_array_equal(back.attention_mass, ep.attention_mass.astype(np.float32))
    else:
        assert back.attention_pos is None and back.attention_mass is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ef.EpisodeFileError, match=r"nope\.episode: does not exist"):
        ef.read(tmp_path / "nope.episode")


def test_every_truncation_is_reported(tmp_path):
    rng = np.random.default_rng(2)
    data = ef.to_bytes(_episode(rng))
    cuts = sorted(set(rng.integers(0, len(data), 40).tolist()) | {0, 5, 8, 13, len(data) - 1})
    for cut in cuts:
        path = tmp_path / f"cut{cut}.episode"
        path.write_bytes(data[:cut])
        with pytest.raises(ef.EpisodeFileError) as e:
            ef.read(path)
        assert str(path) in str(e.value)
        assert "truncated" in str(e.value) or (cut < len(ef.MAGIC) and "not an embodied episode file" in str(e.value))


def test_foreign_and_corrupted_files(tmp_path):
    png = tmp_path / "image.episode"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    with pytest.raises(ef.EpisodeFileError, match="not an embodied episode file"):
        ef.read(png)
    data = bytearray(ef.to_bytes(_episode(np.random.default_rng(3))))
    flipped = tmp_path / "flipped.episode"
    data[len(data) // 2] ^= 0x10
    flipped.write_bytes(bytes(data))
    with pytest.raises(ef.EpisodeFileError, match="checksum mismatch"):
        ef.read(flipped)
    newer = bytearray(ef.to_bytes(_episode(np.random.default_rng(3))))
    newer[len(ef.MAGIC)] = ef.VERSION + 1
    future = tmp_path / "future.episode"
    future.write_bytes(bytes(newer))
    with pytest.raises(ef.EpisodeFileError, match=f"version {ef.VERSION + 1} is newer"):
        ef.read(future)
    with pytest.raises(ef.EpisodeFileError, match="is not a regular file"):
        ef.read(tmp_path)


def test_find_expands_folders(tmp_path):
    rng = np.random.default_rng(4)
    for name in ("b", "a", "c"):
        ef.write(_episode(rng, steps=3), tmp_path / "eps" / f"{name}{ef.SUFFIX}")
    assert [p.stem for p in ef.find([tmp_path / "eps"])] == ["a", "b", "c"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ef.EpisodeFileError, match="empty holds no"):
        ef.find([tmp_path / "empty"])
