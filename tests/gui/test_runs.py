"""Runs that are remembered and exportable, driven through the widgets.

Compare depths from its button; the adaptation shown before Start; each run folder holding the
graph it trained and the document's; distinct run names; the bar after Stop; the time-left
estimate while paused; a failed start that is a message, not a run; the runs found again after
a restart; and the Runs list's context actions (evaluate, export with the trained graph, use
the run's settings), each reached through its real QAction.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from builder import fileformat
from builder.validate import validate
from tests.gui.test_training import WAIT_MS, tiny_cnn

EXPORTS = "gui.export_dialogs"


@pytest.fixture(scope="module")
def gray():  # type: ignore[no-untyped-def]
    """1×8×8 images in 4 classes: tiny_cnn (3×8×8 in, 10 out) must be fitted to them."""
    from builder.training import synthetic

    return synthetic(n=240, shape=(1, 8, 8), num_classes=4, seed=0)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Exceptions that escape a slot (sys.excepthook) are collected here; each test asserts none."""
    caught: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc))
    return caught


@pytest.fixture
def win(window, gray, tmp_path, hook):  # type: ignore[no-untyped-def]
    ctl = window.training
    ctl.dataset = gray
    ctl.runs_root = tmp_path / "runs"
    ctl.panel.set_values(dataset="synthetic", epochs=1, batch_size=32, lr=0.05, device="cpu", cpu_threads=1)
    window.document.set_graph(tiny_cnn())
    ctl.panel_dock.raise_()  # the Training tab, as a person clicks it
    yield window
    ctl.stop_and_wait()
    assert hook == []


def click(button: Any) -> None:
    assert button.isEnabled() and button.isVisible(), button.text()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def run_once(qtbot: Any, ctl: Any) -> Any:
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        click(ctl.panel.start_button)
    return ctl.runs.runs[-1]


def action(ctl: Any, text: str) -> Any:
    """The Runs list's context-menu action with this text (the tree's own QAction)."""
    found = [a for a in ctl.runs.tree.actions() if a.text() == text]
    assert len(found) == 1, [a.text() for a in ctl.runs.tree.actions()]
    assert ctl.runs.tree.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    return found[0]


# ------------------------------------------------------------------------------ starting


def test_compare_depths_button_starts_the_four_nets(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.panel.set_values(epochs=50, batch_size=4)
    click(ctl.panel.compare_button)
    assert ctl.running
    assert [r.name for r in ctl.active] == ["plain20 · synthetic · #1", "plain56 · synthetic · #1",
                                            "resnet20 · synthetic · #1", "resnet56 · synthetic · #1"]
    qtbot.waitUntil(lambda: ctl.active[0].steps.seen >= 1, timeout=WAIT_MS)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        click(ctl.panel.stop_button)
    assert [r.name for r in ctl.runs.runs] == ["plain20 · synthetic · #1"]  # the others never started


def test_the_adaptation_is_shown_before_start_and_kept_in_the_run_folder(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    preview = ctl.refresh_adaptation()
    assert preview.details == ["input 3×8×8 → 1×8×8", "conv2d0 in_channels 3 → 1",
                               "linear5 out_features 10 → 4"]
    line = ctl.adaptation.line.text()
    assert "synthetic (1×8×8, 4 classes)" in line and "input 3×8×8 → 1×8×8" in line
    assert not ctl.adaptation.details.isVisible()
    click(ctl.adaptation.toggle)
    assert ctl.adaptation.details.isVisible()
    assert "linear5 out_features 10 → 4" in ctl.adaptation.details.text()
    run = run_once(qtbot, ctl)
    assert run.status == "completed", run.error
    folder = Path(run.run_dir)
    trained = fileformat.load(folder / "graph.json")
    original = fileformat.load(folder / "original_graph.json")
    assert validate(trained).shapes["input"] == (1, 8, 8)
    assert trained.block("linear5").params["out_features"] == 4
    assert validate(original).shapes["input"] == (3, 8, 8)
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert meta["name"] == run.name and meta["status"] == "completed"
    assert meta["changes"] == preview.details
    assert run.notes == preview.details  # the row's tooltip lists them too


def test_resnet20_on_digits_names_its_changes(win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.dataset = None  # the form's data set: digits, known without loading
    win.files.load(Path(__file__).resolve().parents[2] / "graphs" / "resnet20.json")
    ctl.panel.set_values(dataset="digits")  # after opening: the file's remembered settings load first
    text = ctl.refresh_adaptation().line
    assert "digits (1×8×8, 10 classes)" in text
    assert "input 3×32×32 → 1×8×8, conv1 in_channels 3 → 1" in text


def test_runs_get_distinct_names_and_stop_says_where(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    first, second = run_once(qtbot, ctl), run_once(qtbot, ctl)
    assert (first.name, second.name) == ("tiny · synthetic · #1", "tiny · synthetic · #2")
    assert ctl.runs.tree.topLevelItem(0).text(0) == second.name  # newest at the top
    from builder.training import synthetic

    ctl.dataset = synthetic(n=4000, shape=(1, 8, 8), num_classes=4, seed=0)  # 800 steps an epoch:
    ctl.panel.set_values(epochs=50, batch_size=4)  # Stop lands in epoch 1 however busy the machine
    click(ctl.panel.start_button)
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: run.steps.seen >= 2, timeout=WAIT_MS)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        click(ctl.panel.stop_button)
    assert run.status == "stopped"
    at = run.last_step.epoch  # how far it got before Stop took effect depends on the machine's load
    assert at < 50 and ctl.panel.progress.format() == f"stopped at epoch {at}/50"


def test_the_bar_after_stop_between_two_runs_is_not_done() -> None:
    """Stop after the first of four runs ended (the others never began, so are not listed)."""
    from types import SimpleNamespace

    from gui.training.bar import finished_text

    ended = SimpleNamespace(status="completed", warning="")
    assert finished_text([ended], 4) == (None, "stopped after 1 of 4 runs")
    assert finished_text([], 4) == (0.0, "stopped before the first step")
    assert finished_text([ended]) == (1.0, "done: 1/1 completed")  # no Stop: all of them ran
    assert finished_text([]) == (0.0, "idle")  # a start that failed before a step


def test_time_left_does_not_grow_while_paused(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.panel.set_values(epochs=50, batch_size=4)
    click(ctl.panel.start_button)
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: run.steps.seen >= 3, timeout=WAIT_MS)
    click(ctl.panel.pause_button)
    qtbot.wait(300)  # a step already under way ends
    held = run.steps.seen
    ctl.tick()
    before, spent = ctl.panel.progress.format(), ctl.training_seconds(0)
    qtbot.wait(700)
    ctl.tick()
    assert run.steps.seen == held
    assert ctl.training_seconds(0) == pytest.approx(spent, abs=1e-6)
    assert ctl.panel.progress.format() == before and "paused" in before and "left" in before
    click(ctl.panel.pause_button)  # Resume
    qtbot.waitUntil(lambda: run.steps.seen > held, timeout=WAIT_MS)
    assert ctl.training_seconds(0) > spent - 1e-6


def test_a_failed_start_is_a_message_not_a_run(qtbot, win, boxes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    done = run_once(qtbot, ctl)
    assert ctl.panel.status.text().startswith(done.name)  # the run's description
    listed = list(ctl.runs.runs)
    ctl.dataset = None
    ctl.panel.set_values(dataset="mnist", data_dir=str(tmp_path))  # no MNIST files there
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        click(ctl.panel.start_button)
    assert str(tmp_path) in ctl.panel.error.text()
    assert ctl.runs.runs == listed and ctl.runs.tree.topLevelItemCount() == len(listed)
    assert "completed" not in ctl.panel.progress.format() and ctl.panel.progress.format() == "idle"
    assert ctl.panel.status.text().strip() == ""
    assert not [p for p in (tmp_path / "runs").iterdir() if "mnist" in p.name]  # no folder left
    assert "critical" not in boxes.kinds()


def test_opening_another_graph_clears_the_last_runs_description(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    run_once(qtbot, ctl)
    assert ctl.panel.status.text().strip() and ctl.panel.progress.format().startswith("done")
    win.files.load(Path(__file__).resolve().parents[2] / "graphs" / "lenet.json")
    assert ctl.panel.status.text().strip() == "" and ctl.panel.progress.format() == "idle"


# ------------------------------------------------------------------------------ after a restart


def test_past_runs_are_listed_after_a_restart(qtbot, win, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gui.mainwindow import MainWindow
    from gui.training import controller

    ctl = win.training
    first, second = run_once(qtbot, ctl), run_once(qtbot, ctl)
    monkeypatch.setattr(controller, "default_runs_root", lambda: tmp_path / "runs")
    again = MainWindow(background=False)
    qtbot.addWidget(again)
    again.show()
    again.training.panel_dock.raise_()  # the Training tab, as a person clicks it
    runs = again.training.runs
    tree = runs.tree
    shown = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert shown == [second.name, first.name]
    listed = runs.runs[-1]
    assert listed.name == second.name and listed.status == "completed" and listed.epochs
    assert not listed.loaded and len(listed.steps) == 0  # curves are read when the run is selected
    runs.select([listed])
    assert listed.loaded and len(listed.steps) == len(second.steps)
    assert action(again.training, "Evaluate…").isEnabled()
    third = _train_in(qtbot, again, ctl.dataset)
    assert third.name == "tiny · synthetic · #3"  # numbering continues after the runs on disk
    again.training.stop_and_wait()


def _train_in(qtbot: Any, window: Any, data: Any) -> Any:
    ctl = window.training
    ctl.dataset = data
    ctl.panel.set_values(dataset="synthetic", epochs=1, batch_size=32, device="cpu", cpu_threads=1)
    window.document.set_graph(tiny_cnn())
    return run_once(qtbot, ctl)


# ------------------------------------------------------------------------------ run actions


def test_use_this_runs_settings_hands_the_config_to_the_form(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.panel.set_values(lr=0.02)
    run = run_once(qtbot, ctl)
    ctl.runs.select([run])
    ctl.panel.set_values(lr=0.5)
    action(ctl, "Use this run's settings").trigger()
    assert ctl.panel.config() == run.config


def test_evaluate_a_finished_run_from_the_list(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.panel.set_values(epochs=2)
    run = run_once(qtbot, ctl)
    ctl.runs.select([run])
    action(ctl, "Evaluate…").trigger()
    dialog = ctl.run_actions.dialogs[-1]
    qtbot.waitUntil(lambda: dialog.evaluation is not None or bool(dialog.error), timeout=WAIT_MS)
    ev = dialog.evaluation
    assert ev is not None, dialog.error
    assert ev.total == len(ctl.dataset.y_val) and ev.classes == ctl.dataset.classes
    assert ev.accuracy == pytest.approx(run.epochs[-1].val_acc, abs=1e-6)  # the run's own validation
    assert dialog.matrix.rowCount() == 4 and dialog.matrix.columnCount() == 5
    assert dialog.matrix.item(0, 0).text() == (str(ev.confusion[0, 0]) if ev.confusion[0, 0] else "")
    shown = dialog.gallery_grid.count()
    assert shown == max(1, len(ev.mistakes))
    dialog.close()


def test_evaluating_a_run_without_weights_names_the_file(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    run = run_once(qtbot, ctl)
    (Path(run.run_dir) / "checkpoint.pt").rename(Path(run.run_dir) / "moved.pt")
    ctl.runs.select([run])
    assert not action(ctl, "Evaluate…").isEnabled()
    from gui.training.evaluation import EvaluationDialog

    dialog = EvaluationDialog(run.name, run.run_dir)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(dialog.error), timeout=WAIT_MS)
    assert "checkpoint.pt" in dialog.error and dialog.error in dialog.header.text()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Answers the export dialogs' file prompts; records the folder each save dialog opened in."""
    import importlib

    dialogs = importlib.import_module(EXPORTS)
    state: dict[str, Any] = {"saves": [], "errors": [], "answer": None}

    def save(_window: Any, _title: str, suggested: str, _filters: str) -> Path | None:
        state["saves"].append(suggested)
        return state["answer"]

    monkeypatch.setattr(dialogs, "_ask_save", save)
    monkeypatch.setattr(dialogs, "_show_error", lambda _w, _t, text: state["errors"].append(text))
    return state


def _trained_module(run_dir: str) -> Any:
    from builder.export.weights import compiled_with_weights

    return compiled_with_weights(fileformat.load(Path(run_dir) / "graph.json"), run_dir)


def test_export_code_and_weights_from_a_run_load_strictly(qtbot, win, asked, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.export.conftest import load_source

    ctl = win.training
    run = run_once(qtbot, ctl)
    ctl.runs.select([run])
    asked["answer"] = tmp_path / "tiny_trained.py"
    action(ctl, "Export PyTorch code + weights…").trigger()
    assert asked["errors"] == [] and Path(asked["saves"][0]).parent == Path(run.run_dir)
    module = load_source(asked["answer"].read_text(encoding="utf-8"), asked["answer"], "run_export")
    model = module.Tiny().eval()
    model.load_state_dict(torch.load(tmp_path / "tiny_trained.pt", weights_only=True), strict=True)
    x = ctl.dataset.x_val[:8]
    with torch.no_grad():
        assert torch.allclose(model(x), _trained_module(run.run_dir)(x), atol=1e-5)


def test_export_onnx_from_a_run_matches_the_trained_module(qtbot, win, asked, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import onnxruntime

    ctl = win.training
    run = run_once(qtbot, ctl)
    ctl.runs.select([run])
    asked["answer"] = tmp_path / "tiny.onnx"
    action(ctl, "Export ONNX…").trigger()
    assert asked["errors"] == []
    x = ctl.dataset.x_val[:5]
    session = onnxruntime.InferenceSession(str(asked["answer"]), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        want = _trained_module(run.run_dir)(x).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)
    asked["answer"] = tmp_path / "w.pt"
    action(ctl, "Export weights…").trigger()
    saved = torch.load(tmp_path / "w.pt", weights_only=True)
    assert saved["conv2d0.weight"].shape == (8, 1, 3, 3)  # the fitted graph's, not the document's


def test_a_checkpoint_of_another_graph_is_reported_before_asking_where(qtbot, win, asked) -> None:  # type: ignore[no-untyped-def]
    from builder import templates

    ctl = win.training
    run = run_once(qtbot, ctl)
    fileformat.save(templates.lenet(), Path(run.run_dir) / "graph.json")  # not what it trained
    ctl.runs.select([run])
    action(ctl, "Export ONNX…").trigger()
    assert asked["saves"] == [] and len(asked["errors"]) == 1
    assert "checkpoint.pt" in asked["errors"][0] and "do not fit the graph" in asked["errors"][0]


def test_file_menu_onnx_export_of_a_runs_checkpoint_uses_the_trained_graph(  # type: ignore[no-untyped-def]
        qtbot, win, asked, boxes, monkeypatch, tmp_path) -> None:
    import importlib

    import onnxruntime
    from PySide6.QtWidgets import QMessageBox

    ctl = win.training
    run = run_once(qtbot, ctl)
    opened: list[tuple[Any, ...]] = []
    dialogs = importlib.import_module(EXPORTS)
    checkpoint = Path(run.run_dir) / "checkpoint.pt"
    monkeypatch.setattr(dialogs, "_ask_open", lambda *args: opened.append(args) or checkpoint)
    boxes.answer = QMessageBox.StandardButton.Yes  # "Put trained weights … into the ONNX file?"
    asked["answer"] = tmp_path / "from_menu.onnx"
    file_menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "File")
    next(a for a in file_menu.actions() if a.text() == "Export ONNX…").trigger()
    assert asked["errors"] == [] and opened[0][-1] == str(ctl.runs_root)  # the picker starts in the runs
    x = ctl.dataset.x_val[:3]
    session = onnxruntime.InferenceSession(str(asked["answer"]), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0],
                                   _trained_module(run.run_dir)(x).numpy(), atol=1e-4)


def test_a_runs_tooltip_gives_its_schedule_and_regularisation(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    ctl = win.training
    ctl.panel.set_values(mixup_alpha=1.0, warmup_epochs=1.0, label_smoothing=0.1, augment=True)
    run = run_once(qtbot, ctl)
    tip = ctl.runs.tree.topLevelItem(0).toolTip(0)
    assert run.status == "completed" and tip.startswith(f"{run.graph_name} on synthetic: sgd lr 0.05")
    assert "schedule: lr ×0.1 at 50%, 75% of the run, warm-up 1 epochs from 0.1 × lr" in tip
    assert "momentum 0.9, weight decay 0.0001, augmentation on, MixUp α 1, label smoothing 0.1" in tip
