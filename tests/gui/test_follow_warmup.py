"""Following a run folder as it grows; the background warm-up whose data set Start takes; what
precision auto means, in the form; older remembered settings not overriding the fast defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from builder.training import TrainConfig, Trainer, synthetic
from gui.training.follow import CsvTail, RunFollower
from gui.training.panel import FORM_VERSION, memory_key
from tests.gui.test_training import tiny_cnn


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    caught: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc))
    return caught


def test_a_tail_waits_for_the_end_of_a_row_and_restarts_on_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "steps.csv"
    tail = CsvTail(path)
    assert tail.rows() == []  # not there yet
    path.write_bytes(b"step,loss\n0,1.5\n1,1.")
    assert tail.rows() == [{"step": "0", "loss": "1.5"}]
    with open(path, "ab") as fh:
        fh.write(b"25\n2,1.0\n")
    assert tail.rows() == [{"step": "1", "loss": "1.25"}, {"step": "2", "loss": "1.0"}]
    assert tail.rows() == []
    path.write_bytes(b"step,loss\n0,9\n")  # a resumed run rewrites the file, shorter
    assert tail.rows() == [{"step": "0", "loss": "9"}]


def test_the_follower_reads_what_the_trainer_writes(tmp_path: Path) -> None:
    data = synthetic(n=160, shape=(3, 8, 8), seed=0)
    config = TrainConfig(dataset="synthetic", epochs=2, batch_size=32, device="cpu", cpu_threads=1)
    follower = RunFollower(tmp_path / "run", config.epochs)
    assert follower.poll().steps == [] and not follower.started
    seen: dict[str, list[Any]] = {"steps": [], "epochs": [], "grads": []}
    trainer = Trainer(tiny_cnn(), config, data, run_dir=str(tmp_path / "run"),
                      on_step=seen["steps"].append, on_epoch=seen["epochs"].append,
                      on_gradients=seen["grads"].append)
    trainer.run()
    update = follower.poll()
    assert follower.started and follower.block_ids == seen["grads"][0].block_ids
    assert follower.block_types[0] == "conv2d"
    assert [(m.step, m.epoch, m.batch, m.batches) for m in update.steps] == \
        [(m.step, m.epoch, m.batch, m.batches) for m in seen["steps"]]
    assert [m.loss for m in update.steps] == pytest.approx([m.loss for m in seen["steps"]], rel=1e-5)
    assert [m.train_loss for m in update.epochs] == pytest.approx([m.train_loss for m in seen["epochs"]],
                                                                  rel=1e-5)
    assert [g.step for g in update.gradients] == [g.step for g in seen["grads"]]
    assert update.gradients[-1].weight_norms == pytest.approx(seen["grads"][-1].weight_norms, rel=1e-5)
    assert follower.poll().steps == []  # nothing new


def test_start_takes_the_warmed_up_data_set(qtbot, window, tmp_path, hook, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctl = window.training
    ctl.runs_root = tmp_path / "runs"
    window.document.set_graph(tiny_cnn())
    ctl.panel.set_values(epochs=1, batch_size=64, device="cpu", cpu_threads=1)  # digits: the default
    qtbot.waitUntil(lambda: ctl.warmup.done, timeout=120_000)
    assert ctl.warmup.error == "" and ctl.warmup.data.name == "digits"
    loaded: list[Any] = []
    import builder.training.datasets as datasets

    original = datasets.load_dataset
    monkeypatch.setattr(datasets, "load_dataset", lambda config: loaded.append(config) or original(config))
    with qtbot.waitSignal(ctl.all_finished, timeout=60_000):
        QTest.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
    run = ctl.runs.runs[-1]
    assert loaded == [] and run.status == "completed"  # the data set was not loaded again
    assert run.device.startswith("cpu · ")  # the device column says what ran
    ctl.panel.set_values(seed=5)  # another split of the data: that one is loaded
    with qtbot.waitSignal(ctl.all_finished, timeout=60_000):
        QTest.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
    assert len(loaded) == 1 and loaded[0].seed == 5
    assert hook == []


def test_the_form_says_what_auto_becomes(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import torch

    from gui.training import devices

    monkeypatch.setattr(devices, "_AUTO", {})
    monkeypatch.setattr("builder.training.precision.platform.machine", lambda: "x86_64")
    panel = window.training.panel
    combo = panel.widget("precision")
    for caps, name in (({"amx_bf16": True}, "bf16"), ({"avx2": True}, "fp32")):
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda c=caps: c)
        devices._AUTO.clear()
        panel.set_values(device="cpu")
        index = combo.findData("auto")
        assert combo.itemText(index) == f"Auto → {name} on this CPU"
        assert "auto resolves to" in combo.itemData(index, Qt.ItemDataRole.ToolTipRole)


def test_settings_remembered_before_the_fast_defaults_keep_them(window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training.panel
    key = memory_key(panel.path_source())  # the settings remembered for the graph file shown
    old = TrainConfig(precision="fp32", channels_last=False, lr=0.2).to_dict()  # version 1: no marker
    panel._settings().setValue(key, json.dumps(old))
    panel.restore_settings()
    values = panel.values()
    assert (values["precision"], values["channels_last"], values["lr"]) == ("auto", True, 0.2)
    chosen = {**old, "_form": FORM_VERSION, "_processes": 2, "device": "cpu"}  # a person's choice
    panel._settings().setValue(key, json.dumps(chosen))
    panel.restore_settings()
    values = panel.values()
    assert (values["precision"], values["channels_last"]) == ("fp32", False)
    assert panel.device.processes() == 2 and values["device"] == "cpu"
    panel.remember()
    stored = json.loads(panel._settings().value(key))
    assert stored["_form"] == FORM_VERSION and stored["_processes"] == 2
