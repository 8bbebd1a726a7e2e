"""benchmarks/train_ab.py: how a variant is read from the command line (the measurement is peer_throughput's)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.train_ab import main, source_tree, variant  # noqa: E402


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


def test_code_must_name_a_variant_and_a_source_tree(tmp_path):
    with pytest.raises(SystemExit, match="expected a variant name and a source tree"):
        main(["a=", "b=", "--code", f"c={Path(__file__).resolve().parents[2]}"])
    with pytest.raises(SystemExit, match="expected a variant name and a source tree"):
        main(["a=", "b=", "--code", f"b={tmp_path}"])
    with pytest.raises(SystemExit):  # argparse's usage error: no directory
        main(["a=", "b=", "--code", "b="])


def test_a_source_tree_is_taken_whole(tmp_path):
    """A directory name with commas and ``=`` in it is not cut as the variants' overrides are."""
    tree = tmp_path / "before,rev=3d21"
    assert source_tree(f"b={tree}") == ("b", tree.resolve())


@pytest.mark.slow
def test_a_variant_runs_the_source_tree_it_is_given(tmp_path):
    """``--code`` runs that tree, not the installed one: a copy whose trainer cannot start fails the measurement."""
    import shutil

    repo = Path(__file__).resolve().parents[2]
    broken = tmp_path / "tree"
    shutil.copytree(repo / "embodied", broken / "embodied")
    shutil.copytree(repo / "configs", broken / "configs")
    (broken / "embodied" / "commands" / "train.py").write_text("raise SystemExit('the copied tree ran')\n")
    with pytest.raises(RuntimeError, match="embodied train ended"):
        main(["a=cluster=inprocess", "b=cluster=inprocess", "--code", f"a={broken}", "--rounds", "1",
              "--seconds", "2", "--warmup", "0"])
