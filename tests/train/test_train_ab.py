"""benchmarks/train_ab.py: how a variant is read from the command line (the measurement is peer_throughput's)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.train_ab import main, variant  # noqa: E402


def test_variants_split_their_overrides():
    assert variant("base=") == ("base", [])
    assert variant("mb4=trainer.minibatches=4,trainer.epochs=1") == ("mb4", ["trainer.minibatches=4", "trainer.epochs=1"])


@pytest.mark.parametrize("text", ["=trainer.epochs=1", "nooverrides", "2fast=trainer.epochs=1"])
def test_malformed_variants_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected NAME=OVERRIDES"):
        variant(text)


@pytest.mark.parametrize("args", [["a=", "a=trainer.epochs=1"], ["a="]])
def test_a_comparison_needs_two_differently_named_variants(args):
    with pytest.raises(SystemExit, match="two or more variants with different names"):
        main(args)
