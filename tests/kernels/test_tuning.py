"""The kernels' autotune candidates: what a GPU chooses from, the interpreter's single tile, pinning."""
from __future__ import annotations

import pytest

from embodied.kernels import tuning


def test_compiled_candidates_are_tiles_the_kernels_accept(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    for kind in tuning.KINDS:
        configs = tuning.candidates(kind)
        assert len(configs) > 1 and len({str(c) for c in configs}) == len(configs)
        for c in configs + [tuning.default(kind, d) for d in (16, 32, 64, 128, 256)]:
            tiles = [v for k, v in c.kwargs.items() if k.startswith("BLOCK_")]
            assert tiles and all(t >= 16 and t & (t - 1) == 0 for t in tiles), c  # tl.dot / tl.arange need these
            assert c.num_warps in (1, 2, 4, 8) and c.num_stages >= 1


def test_interpreter_collapses_to_one_small_tile(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    for kind in tuning.KINDS:
        (config,) = tuning.candidates(kind)
        assert config.kwargs["BLOCK_N"] == 16 and config.num_warps == 1
        assert tuning.default(kind, 128) is not None and str(tuning.default(kind, 128)) == str(config)


def test_pinning_is_scoped_and_counts_for_buffer_sizes(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    small = tuning.tile_config(16, 16, 2, 1)
    assert 16 not in tuning.tile_sizes("bwd", "BLOCK_M")
    with tuning.pinned("bwd", small):
        assert min(tuning.tile_sizes("bwd", "BLOCK_M")) == 16  # dq's per-tile sink buffer must fit it
        with tuning.pinned("bwd", tuning.candidates("bwd")[0]):
            assert 16 not in tuning.tile_sizes("bwd", "BLOCK_M")
        assert 16 in tuning.tile_sizes("bwd", "BLOCK_M")
    assert 16 not in tuning.tile_sizes("bwd", "BLOCK_M")


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="kernel kind 'bwd_dq' is unknown"):
        tuning.candidates("bwd_dq")


@pytest.mark.parametrize("n,bucket", [(1, 1), (2, 2), (3, 4), (4096, 4096), (4097, 8192)])
def test_length_bucket_is_the_next_power_of_two(n, bucket):
    assert tuning.length_bucket(n) == bucket
