"""TrainConfig: every field is validated with a message naming it; JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest

from builder.training.config import ConfigError, TrainConfig

# field → a bad value and a fragment of the message it must give
BAD = {
    "dataset": ("imagenet", "must be one of"),
    "data_dir": (5, "expected a string"),
    "image_size": (-1, "must be in"),
    "val_fraction": (1.0, "must be in"),
    "augment": ("yes", "true or false"),
    "optimizer": ("rmsprop", "must be one of"),
    "lr": (0.0, "must be in"),
    "momentum": (1.0, "must be in"),
    "nesterov": (1, "true or false"),
    "weight_decay": (-0.1, "must be in"),
    "schedule": ("step", "must be one of"),
    "milestones": ([0.75, 0.5], "increasing"),
    "gamma": (0.0, "must be in"),
    "warmup_epochs": (-1.0, "must be ≥ 0"),
    "warmup_start": (0.0, "must be in"),
    "epochs": (0, "must be in"),
    "batch_size": (0, "must be in"),
    "clip": ("both", "must be one of"),
    "clip_value": (0.0, "must be > 0"),
    "mixup_alpha": (-1.0, "must be in"),
    "label_smoothing": (1.0, "must be in"),
    "seed": (-3, "must be in"),
    "device": ("gpu", "cuda:N"),
    "precision": ("fp8", "must be one of"),
    "channels_last": ("no", "true or false"),
    "compile": (None, "true or false"),
    "probe_every": (-1, "must be in"),
    "probe_outputs": (0, "true or false"),
    "checkpoint_every": (1.5, "an integer"),
    "val_every": (-2, "must be in"),
}


def test_every_field_has_a_bad_value_case() -> None:
    assert set(BAD) == {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_value_names_the_field(name: str) -> None:
    value, fragment = BAD[name]
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{name: value})
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{name}: ")
    assert fragment in info.value.problems[0]


def test_defaults_are_valid_and_follow_the_measured_recipe() -> None:
    config = TrainConfig()
    assert config.problems() == []
    assert (config.optimizer, config.lr, config.momentum, config.weight_decay) == ("sgd", 0.05, 0.9, 1e-4)
    assert (config.batch_size, config.schedule, config.milestones) == (128, "multistep", [0.5, 0.75])


def test_cross_field_rules() -> None:
    with pytest.raises(ConfigError, match="data_dir: dataset mnist needs a data folder"):
        TrainConfig(dataset="mnist")
    with pytest.raises(ConfigError, match="precision: bf16 mixed precision needs a CUDA device"):
        TrainConfig(precision="bf16", device="cpu")
    with pytest.raises(ConfigError, match="nesterov: Nesterov needs"):
        TrainConfig(nesterov=True, momentum=0.0)
    assert TrainConfig(device="cuda:1").device == "cuda:1"
    with pytest.raises(ConfigError, match="milestones: each milestone"):
        TrainConfig(milestones=[0.5, 1.5])


def test_several_bad_fields_are_all_reported() -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(lr=-1.0, epochs=0)
    assert [p.split(":")[0] for p in info.value.problems] == ["lr", "epochs"]


def test_json_round_trip(tmp_path) -> None:
    config = TrainConfig(optimizer="adamw", lr=0.001, schedule="cosine", warmup_epochs=2.0,
                         clip="norm", clip_value=5.0, mixup_alpha=1.0, milestones=[0.3], seed=7)
    path = tmp_path / "cfg.json"
    config.save(path)
    assert TrainConfig.load(path) == config
    assert TrainConfig.from_json(config.to_json()) == config


def test_json_integers_are_accepted_for_floats() -> None:
    assert TrainConfig.from_dict({"lr": 1, "milestones": [0.5]}).lr == 1.0


def test_json_errors_name_the_key_and_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"cfg: learning_rate: unknown setting"):
        TrainConfig.from_dict({"learning_rate": 0.1}, "cfg")
    with pytest.raises(ConfigError, match=r"cfg: epochs: expected an integer, got '3'"):
        TrainConfig.from_dict({"epochs": "3"}, "cfg")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        TrainConfig.from_dict([1, 2])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.json: not valid JSON"):
        TrainConfig.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        TrainConfig.load(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="must be a finite number"):
        TrainConfig.from_dict(json.loads('{"lr": 1e999}'))
