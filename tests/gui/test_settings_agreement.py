"""The config, the command line and the training form agree on every setting: each has a form
editor and a flag, with the same choices, range and default (all generated from one description)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from builder.cli import build_parser
from builder.training.cli import make_config
from builder.training.config import SETTINGS, TrainConfig
from builder.training.settings import Spec, format_value
from gui.training.devices import DeviceCombo
from gui.training.editors import ChoiceBox, FloatBox, IntBox, ListEdit, SwitchBox
from gui.training.form import SettingsForm

EDITORS = {"choice": ChoiceBox, "int": IntBox, "float": FloatBox, "bool": SwitchBox, "floats": ListEdit}
ENABLE = {"warmup_start": {"warmup_epochs": 1.0}, "clip_value": {"clip": "norm"}}  # make them apply


@pytest.fixture(scope="module")
def train_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["train"]  # type: ignore[no-any-return]


@pytest.fixture
def form(qtbot: Any) -> SettingsForm:
    widget = SettingsForm()
    qtbot.addWidget(widget)
    return widget


def _flag(parser: argparse.ArgumentParser, spec: Spec) -> argparse.Action:
    actions = [a for a in parser._actions if spec.flag in a.option_strings]
    assert len(actions) == 1, f"{spec.name}: no flag {spec.flag}"
    return actions[0]


def _cli(parser: argparse.ArgumentParser, *argv: str) -> TrainConfig:
    return make_config(parser.parse_args(["g.json", *argv]))  # type: ignore[no-any-return]


def _outside(spec: Spec) -> list[Any]:
    """Values just outside the declared range (an open end itself is outside)."""
    limits = spec.setting.range
    assert limits is not None
    step = 1 if spec.kind == "int" else 1e-3
    low = limits.low if limits.low_open else limits.low - step
    high = limits.high if limits.high_open else limits.high + step
    return [[low] if spec.kind == "floats" else low, [high] if spec.kind == "floats" else high]


@pytest.mark.parametrize("name", list(SETTINGS))
def test_form_cli_and_config_agree(name: str, form: SettingsForm, train_parser: argparse.ArgumentParser,
                                   capsys: Any) -> None:
    spec = SETTINGS[name]
    editor = form.editors[name]
    # one editor, of the kind the type asks for, showing the config's default
    if spec.setting.widget == "device":
        assert isinstance(editor, DeviceCombo)
    elif spec.kind in EDITORS:
        assert isinstance(editor, EDITORS[spec.kind]), name
    assert form.values()[name] == spec.default == getattr(TrainConfig(), name)
    assert form.labels[name].text() == spec.setting.label
    # one flag, whose value written as the help shows it gives the config's default
    action = _flag(train_parser, spec)
    assert action.dest == name
    if spec.kind == "bool":
        assert f"--no-{spec.flag[2:]}" in action.option_strings
        assert getattr(_cli(train_parser, spec.flag), name) is True
        assert getattr(_cli(train_parser, f"--no-{spec.flag[2:]}"), name) is False
    elif name != "data_dir":
        assert getattr(_cli(train_parser, spec.flag, format_value(spec, spec.default)), name) == spec.default
    # the same choices
    if spec.choices and spec.setting.widget != "device":
        assert [editor.itemData(i) for i in range(editor.count())] == list(spec.choices)
        for choice in spec.choices:
            form.set_values(**{name: choice})
            assert form.values()[name] == choice
            assert getattr(_cli(train_parser, spec.flag, choice, "--data-dir", "d"), name) == choice
    # the same range: the editor's bounds are the rule's; an open end is refused by all three
    limits = spec.setting.range
    if limits is not None and spec.kind in ("int", "float"):
        assert (editor.minimum(), editor.maximum()) == (limits.low, limits.high)
    if limits is not None:
        for bad in _outside(spec):
            assert name in dict(_problems(**{name: bad})), (name, bad)
            text = ",".join(map(repr, bad)) if isinstance(bad, list) else repr(bad)
            with pytest.raises(Exception, match=f"^{spec.flag}: "):
                _cli(train_parser, spec.flag, text)
        if limits.low_open and spec.kind != "floats":
            form.set_values(**ENABLE.get(name, {}))
            assert spec.applies(form.values())
            form.set_values(**{name: limits.low})
            assert name in form.problems
            assert form.slots[name].styleSheet().count("d32f2f") == 1


def _problems(**values: Any) -> list[tuple[str, str]]:
    try:
        TrainConfig(**values)
    except ValueError as exc:
        return exc.fields  # type: ignore[attr-defined, no-any-return]
    return []


def test_the_form_covers_every_setting_and_nothing_else(form: SettingsForm) -> None:
    assert list(form.editors) == list(SETTINGS) == list(form.values())
    assert form.config() == TrainConfig()
    shown = {name for name, spec in SETTINGS.items() if not spec.setting.advanced}
    assert {"label_smoothing", "augment", "milestones", "gamma", "mixup_alpha", "cpu_threads"} <= shown
