"""The dispatcher: path choice and clear errors on bad arguments."""
from __future__ import annotations

import pytest
import torch

from embodied.kernels import dispatch, sink_attention, sink_decode


def test_cpu_tensors_take_the_cpu_paths(monkeypatch):
    assert dispatch._backend(None, torch.device("cpu")) == "sdpa"  # the chunked path where sdpa does not apply
    assert dispatch._backend(None, torch.device("cuda")) == "triton"
    monkeypatch.setenv("EMBODIED_ATTENTION", "reference")
    assert dispatch._backend(None, torch.device("cuda")) == "reference"
    with pytest.raises(ValueError, match="allowed"):
        dispatch._backend("flash", torch.device("cpu"))


def test_paths_agree_by_default(case):
    c = case(b=2, h=2, n=16, s=16, d=8, sink="k")
    q, k, v, ks, _ = (None if t is None else t.detach().float() for t in c.inputs)
    auto = sink_attention(q, k, v, ks, lengths=c.lengths)
    assert (auto.double() - c.out).abs().max() < 1e-5


@pytest.mark.parametrize("bad,match", [
    (dict(k=torch.zeros(1, 2, 5, 4)), "shapes disagree"),
    (dict(k_sink=torch.zeros(3, 8)), "k_sink has shape"),
    (dict(v_sink=torch.zeros(2, 8)), "v_sink without k_sink"),
    (dict(lengths=torch.tensor([5, 5])), "lengths has shape"),
    (dict(q_offset=3), "fall outside"),
    (dict(key_start=torch.zeros(1, 5)), "key_start has shape"),
])
def test_bad_arguments_are_named(bad, match):
    args = dict(q=torch.zeros(1, 2, 4, 8), k=torch.zeros(1, 2, 6, 8), v=torch.zeros(1, 2, 6, 8), k_sink=None,
                v_sink=None, lengths=None, q_offset=None, key_start=None)
    args.update(bad)
    if "k" in bad:
        args["v"] = bad["k"]
    with pytest.raises(ValueError, match=match):
        sink_attention(args.pop("q"), args.pop("k"), args.pop("v"), args.pop("k_sink"), args.pop("v_sink"), **args)


def test_decode_rejects_empty_or_oversized_lengths():
    q, k = torch.zeros(2, 1, 8), torch.zeros(2, 1, 10, 8)
    with pytest.raises(ValueError, match="decode lengths"):
        sink_decode(q, k, k, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="decode lengths"):
        sink_decode(q, k, k, torch.tensor([11, 3]))


def test_triton_rejects_unsupported_head_dim():
    q = torch.zeros(1, 1, 4, 24)
    with pytest.raises(ValueError, match="head_dim=24"):
        sink_attention(q, q, q, backend="triton")
