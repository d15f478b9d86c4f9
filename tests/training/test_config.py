"""TrainConfig: every field is validated with a message naming it; JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest

from builder.training.config import SETTINGS, ConfigError, TrainConfig, default_threads
from builder.training.settings import FORM_SECTIONS, Range, check_value

# field → a bad value and a fragment of the message it must give
BAD = {
    "dataset": ("imagenet", "must be one of"),
    "data_dir": (5, "expected a string"),
    "image_size": (-1, "must be "),
    "val_fraction": (1.0, "must be "),
    "augment": ("yes", "true or false"),
    "optimizer": ("rmsprop", "must be one of"),
    "lr": (0.0, "must be greater than 0, at most 10; got 0.0"),
    "momentum": (1.0, "must be "),
    "nesterov": (1, "true or false"),
    "weight_decay": (-0.1, "must be "),
    "schedule": ("step", "must be one of"),
    "milestones": ([0.75, 0.5], "increasing"),
    "gamma": (0.0, "must be "),
    "warmup_epochs": (-1.0, "must be 0 to 100,000 epochs"),
    "warmup_start": (0.0, "must be "),
    "epochs": (0, "must be "),
    "batch_size": (0, "must be "),
    "clip": ("both", "must be one of"),
    "clip_value": (0.0, "must be greater than 0, at most 1,000,000"),
    "mixup_alpha": (-1.0, "must be "),
    "label_smoothing": (1.0, "must be "),
    "seed": (-3, "must be "),
    "device": ("gpu", "cuda:N"),
    "precision": ("fp8", "must be one of"),
    "channels_last": ("no", "true or false"),
    "compile": (None, "true or false"),
    "probe_every": (-1, "must be "),
    "probe_outputs": (0, "true or false"),
    "checkpoint_every": (1.5, "an integer"),
    "val_every": (-2, "must be "),
    "cpu_threads": (0, "must be 1 to 1,024 threads; got 0"),
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
    with pytest.raises(ConfigError, match="data_dir: an image-folder data set needs a folder"):
        TrainConfig(dataset="folder")
    assert TrainConfig(dataset="mnist").data_dir == ""  # the fetched copy (builder.training.fetch)
    with pytest.raises(ConfigError, match="precision: fp16 mixed precision needs a CUDA device"):
        TrainConfig(precision="fp16", device="cpu")
    with pytest.raises(ConfigError, match="precision: bf16 is not offered on MPS"):
        TrainConfig(precision="bf16", device="mps")
    assert TrainConfig(precision="bf16", device="cpu").precision == "bf16"  # bf16 on a CPU is allowed
    with pytest.raises(ConfigError, match="nesterov: Nesterov needs"):
        TrainConfig(nesterov=True, momentum=0.0)
    assert TrainConfig(device="cuda:1").device == "cuda:1"
    with pytest.raises(ConfigError, match="milestones: each value must be greater than 0, less than 1"):
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


def test_a_run_folder_config_without_newer_keys_still_loads(tmp_path) -> None:
    old = {k: v for k, v in TrainConfig(epochs=2).to_dict().items() if k != "cpu_threads"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(old))
    config = TrainConfig.load(path)
    assert config.epochs == 2 and config.cpu_threads == default_threads() >= 1


@pytest.mark.parametrize("threads", [0, -2])
def test_cpu_threads_below_one_is_refused_with_a_clear_message(threads: int) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(cpu_threads=threads)
    assert info.value.problems == [f"cpu_threads: must be 1 to 1,024 threads; got {threads}"]
    assert info.value.fields == [("cpu_threads", f"must be 1 to 1,024 threads; got {threads}")]


def test_default_threads_leave_one_core_to_the_window(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_threads() == 7
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_threads() == 1


@pytest.mark.parametrize(("limits", "text"), [
    (Range(1, 1_000_000), "1 to 1,000,000"),
    (Range(0, 10, low_open=True), "greater than 0, at most 10"),
    (Range(0, 1, high_open=True), "at least 0, less than 1"),
    (Range(0, 1, low_open=True, high_open=True), "greater than 0, less than 1"),
    (Range(1e-6, 0.5), "1e-06 to 0.5"),
])
def test_ranges_read_as_a_person_writes_them(limits: Range, text: str) -> None:
    assert limits.describe() == text
    assert (limits.low in limits) != limits.low_open and (limits.high in limits) != limits.high_open


def test_every_setting_is_described_once_from_its_declaration() -> None:
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert list(SETTINGS) == names
    for spec in SETTINGS.values():
        s = spec.setting
        assert s.label and s.help and s.section in FORM_SECTIONS, spec.name
        assert spec.default == getattr(TrainConfig(), spec.name)
        assert (spec.kind == "choice") == bool(spec.choices), spec.name
        assert spec.kind not in ("int", "float", "floats") or s.range is not None, spec.name
    assert SETTINGS["optimizer"].choices == ("sgd", "adam", "adamw")  # from the Literal annotation
    assert SETTINGS["lr"].setting.range == Range(0, 10, low_open=True)
    assert SETTINGS["cpu_threads"].flag == "--threads" and SETTINGS["batch_size"].flag == "--batch-size"


def test_problems_come_from_the_declared_ranges_and_choices() -> None:
    spec = SETTINGS["lr"]
    assert check_value(spec, 10.0) is None and check_value(spec, 0.0) is not None
    assert check_value(SETTINGS["momentum"], 0.0) is None and check_value(SETTINGS["momentum"], 1.0)
    assert check_value(SETTINGS["milestones"], [0.2, 1.0]) == (
        "each value must be greater than 0, less than 1; got [0.2, 1.0]")
    assert check_value(SETTINGS["clip"], "norm") is None
    assert "must be one of none, norm, value" in str(check_value(SETTINGS["clip"], "both"))
