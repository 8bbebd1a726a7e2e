"""The trainer keys' types (embodied/learner/settings.py, Hydra's ConfigStore) fail a mistyped value at
composition, naming the key and the type, before a run directory exists; the schema covers every key the
trainer's yaml sets, so the yaml stays the one place of values and documentation."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import configs
from embodied.cli import main as cli
from embodied.config import load
from embodied.learner.settings import TrainerSchema


@pytest.mark.parametrize("override, why", [
    ("trainer.epochs=two", "Value 'two' of type 'str' could not be converted to Integer"),
    ("trainer.lr=fast", "Value 'fast' of type 'str' could not be converted to Float"),
    ("trainer.normalize_advantages=maybe", "Value 'maybe' is not a valid bool"),
])
def test_a_mistyped_trainer_value_is_a_one_line_error_before_start_up(override, why, tmp_path, capsys):
    assert cli(["train", override, f"runs_dir={tmp_path}", "name=r", "progress=false"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and override in err and why in err, err
    assert not (tmp_path / "r").exists()


def test_the_schema_types_every_key_of_the_trainer_yaml():
    yaml = OmegaConf.load(Path(configs.__file__).parent / "trainer" / "ppo_partial.yaml")
    assert set(yaml) == {f.name for f in fields(TrainerSchema)}
    cfg = load("train", ["trainer.epochs=3", "trainer.lr=5e-4", "trainer.grad_context=64"])
    assert (cfg.trainer.epochs, cfg.trainer.lr, cfg.trainer.grad_context) == (3, 5e-4, 64)
    assert isinstance(load("train", ["trainer.lr=1"]).trainer.lr, float)  # converted to the declared type
