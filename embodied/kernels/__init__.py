"""Sink-KV attention: a reference definition, a chunked CPU path and Triton kernels behind one dispatcher.

The model calls only ``sink_attention`` (training / full sequences, differentiable) and ``sink_decode``
(one new query per sequence over a KV cache). Triton is imported only when the Triton path runs.
"""
from embodied.kernels.dispatch import BACKENDS, sink_attention, sink_decode
from embodied.kernels.reference import reference_attention, reference_decode, reference_probs

__all__ = ["BACKENDS", "sink_attention", "sink_decode", "reference_attention", "reference_decode",
           "reference_probs"]
