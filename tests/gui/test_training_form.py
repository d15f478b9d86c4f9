"""The training form as a person meets it: what blocks Start is shown next to it the moment it
applies, the wheel scrolls the form, settings are remembered per graph file and across restarts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from builder.graph import Graph
from builder.training.config import TrainConfig
from tests.gui.conftest import GRAPHS
from tests.gui.test_training import tiny_cnn

WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def hooked(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every exception that reaches sys.excepthook during the test fails it."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: seen.append(exc))
    yield seen
    assert seen == []


@pytest.fixture
def ctl(window: Any, tmp_path: Any) -> Any:
    from builder.training import synthetic

    c = window.training
    c.dataset = synthetic(n=160, shape=(3, 8, 8), seed=0)
    c.runs_root = tmp_path / "runs"  # not the session's runs folder, which other tests list
    c.panel_dock.show()
    c.panel_dock.raise_()
    QApplication.processEvents()
    yield c
    c.stop_and_wait()


def menu_action(window: Any, menu: str, text: str) -> QAction:
    """An action reached through the real menu bar, by the texts a person reads."""
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu:
            for action in top.menu().actions():
                if action.text().replace("&", "") == text:
                    return action  # type: ignore[no-any-return]
    raise AssertionError(f"no {menu} → {text}")


def type_into(widget: QWidget, text: str) -> None:
    """Select all, type and press Return, as a person does in a spin box or line edit."""
    target = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    QTest.mouseClick(target, Qt.MouseButton.LeftButton)
    QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(target, text)
    QTest.keyClick(target, Qt.Key.Key_Return)


def wheel(widget: QWidget, steps: int = -1) -> None:
    """A real wheel event (through the window system) over the centre of ``widget``."""
    QApplication.processEvents()  # pending layout first: the pointer must be over ``widget``
    top = widget.window()
    centre = widget.mapTo(top, QPoint(widget.width() // 2, widget.height() // 2))
    under = top.childAt(centre)
    assert under is widget or widget.isAncestorOf(under), f"{under} is under the pointer"
    QTest.wheelEvent(top.windowHandle(), QPointF(centre), QPoint(0, 120 * steps))
    QApplication.processEvents()


def in_sight(window: Any, widget: QWidget) -> bool:
    """Shown, not clipped away by a scroll area, and inside the window."""
    if not widget.isVisible() or widget.visibleRegion().isEmpty():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(top_left) and window.rect().contains(
        top_left + QPoint(widget.width() - 1, widget.height() - 1))


def test_a_bad_learning_rate_is_shown_next_to_start_and_disables_it(qtbot: Any, ctl: Any) -> None:
    window, panel = ctl.window, ctl.panel
    window.document.set_graph(tiny_cnn())
    panel.set_values(epochs=1, batch_size=32, device="cpu", dataset="synthetic")
    start = menu_action(window, "Train", "Start Training")
    assert panel.start_button.isEnabled() and start.isEnabled() and not panel.error.isVisible()
    type_into(panel.widget("lr"), "0")
    reason = "Learning rate: must be greater than 0, at most 10; got 0.0"
    assert panel.error.text() == reason and in_sight(window, panel.error)
    assert not panel.form_area.isAncestorOf(panel.error)  # never scrolled away with the form
    assert not panel.start_button.isEnabled() and reason in panel.start_button.toolTip()
    assert not start.isEnabled() and reason in start.toolTip()
    assert not menu_action(window, "Train", "Train Plain Twin").isEnabled()
    assert not panel.compare_button.isEnabled()
    assert "d32f2f" in panel.form.slots["lr"].styleSheet()
    assert reason in panel.widget("lr").toolTip()
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    start.trigger()
    assert not ctl.running and ctl.runs.runs == []
    type_into(panel.widget("lr"), "0.05")
    assert panel.start_button.isEnabled() and start.isEnabled() and panel.compare_button.isEnabled()
    assert not panel.error.isVisible() and "transparent" in panel.form.slots["lr"].styleSheet()
    assert panel.start_button.toolTip().startswith("Train this graph")
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert ctl.runs.runs[-1].status == "completed" and ctl.runs.runs[-1].config.lr == 0.05


def _no_output() -> Graph:
    g = Graph("broken")
    g.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input", pos=(0, 0))
    return g


def _flat_linear() -> Graph:
    g = _no_output()
    g.add_block("linear", {"out_features": 10}, block_id="fc", pos=(200, 0))
    g.add_block("output", block_id="output", pos=(400, 0))
    g.connect("input", "fc", 0)
    g.connect("fc", "output", 0)
    return g


def test_graph_errors_block_start_and_twin_but_not_compare(qtbot: Any, ctl: Any) -> None:
    window, panel = ctl.window, ctl.panel
    window.document.set_graph(_no_output())
    qtbot.waitUntil(lambda: not panel.start_button.isEnabled())
    text = panel.error.text()
    assert text == "Fix the graph first — the graph has no Output block; add one from the palette"
    assert ": :" not in text and in_sight(window, panel.error)
    assert not menu_action(window, "Train", "Start Training").isEnabled()
    assert not panel.twin_button.isEnabled()
    assert not menu_action(window, "Train", "Train Plain Twin").isEnabled()
    assert panel.compare_button.isEnabled()  # it trains templates, not the canvas
    assert menu_action(window, "Train", "Compare Depths (plain/residual × 20/56)").isEnabled()
    window.document.set_graph(_flat_linear())
    qtbot.waitUntil(lambda: panel.error.text().startswith("Fix the graph first — block fc: Linear is fed"))
    window.files.load(GRAPHS / "resnet20.json")  # a valid graph: the message goes at once
    assert panel.error.text() == "" and not panel.error.isVisible() and panel.start_button.isEnabled()
    assert menu_action(window, "Train", "Start Training").isEnabled()


def test_a_fixed_graph_clears_the_message(qtbot: Any, ctl: Any) -> None:
    window, panel = ctl.window, ctl.panel
    window.document.set_graph(_no_output())
    qtbot.waitUntil(lambda: "no Output" in panel.error.text())
    window.document.graph.add_block("flatten", block_id="flat", pos=(200, 0))
    window.document.graph.add_block("linear", {"out_features": 10}, block_id="fc", pos=(400, 0))
    window.document.graph.add_block("output", block_id="output", pos=(600, 0))
    for a, b in (("input", "flat"), ("flat", "fc"), ("fc", "output")):
        window.document.graph.connect(a, b, 0)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled())
    assert not panel.error.isVisible()


def test_a_run_message_stays_below_the_reasons_that_block_start(ctl: Any) -> None:
    panel = ctl.panel
    panel.show_error("resnet20: the last run stopped")
    assert panel.error.text() == "resnet20: the last run stopped"
    panel.set_values(mixup_alpha=0.0, label_smoothing=0.0, dataset="folder", data_dir="")
    assert panel.error.text() == "Folder: an image-folder data set needs a folder"
    assert "d32f2f" in panel.form.slots["data_dir"].styleSheet()
    panel.set_values(dataset="synthetic")
    assert panel.error.text() == "resnet20: the last run stopped"


def test_the_wheel_scrolls_the_form_and_changes_a_field_only_with_focus(qtbot: Any, ctl: Any) -> None:
    panel = ctl.panel
    QTest.mouseClick(panel.form.advanced, Qt.MouseButton.LeftButton)  # a longer form
    qtbot.waitUntil(lambda: panel.form_area.verticalScrollBar().maximum() > 0)
    bar = panel.form_area.verticalScrollBar()
    for name, before in (("clip", "none"), ("lr", 0.05), ("epochs", 30)):
        bar.setValue(0)
        widget = panel.widget(name)
        panel.form_area.ensureWidgetVisible(widget)
        start = bar.value()
        assert not widget.hasFocus() and panel.values()[name] == before
        wheel(widget, -1)
        assert panel.values()[name] == before, f"the wheel changed {name}"
        assert bar.value() > start or bar.value() == bar.maximum(), f"the form did not scroll ({name})"
    clip = panel.widget("clip")
    panel.form_area.ensureWidgetVisible(clip)
    clip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(clip.hasFocus)
    wheel(clip, -1)
    assert panel.values()["clip"] == "norm"  # with focus the wheel picks the next choice
    lr = panel.widget("lr")
    QTest.mouseClick(lr.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lr.hasFocus)
    wheel(lr, 1)
    assert panel.values()["lr"] > 0.05


def test_settings_that_do_not_apply_are_disabled(ctl: Any) -> None:
    panel = ctl.panel
    panel.set_values(optimizer="adam")
    assert not panel.widget("momentum").isEnabled() and not panel.widget("nesterov").isEnabled()
    panel.set_values(schedule="cosine")
    assert not panel.widget("milestones").isEnabled() and not panel.widget("gamma").isEnabled()
    panel.set_values(device="cuda:0", precision="fp16")
    assert panel.widget("precision").isEnabled() and panel.start_button.isEnabled()
    panel.set_values(device="cpu")  # fp16 needs CUDA: said next to Start
    assert not panel.start_button.isEnabled() and "fp16 mixed precision needs a CUDA device" in \
        panel.error.text()
    panel.set_values(precision="bf16")  # bf16 on the CPU is a choice
    assert panel.start_button.isEnabled()


def test_milestones_are_typed_and_checked_live(ctl: Any) -> None:
    panel = ctl.panel
    type_into(panel.widget("milestones"), "0.3, 0.6, 0.9")
    assert panel.values()["milestones"] == [0.3, 0.6, 0.9] and panel.start_button.isEnabled()
    type_into(panel.widget("milestones"), "0.6, 0.3")
    assert panel.error.text() == "Milestones: milestones must be increasing, got [0.6, 0.3]"
    type_into(panel.widget("milestones"), "half")
    assert panel.error.text() == "Milestones: expected a list of numbers, got 'half'"
    assert not panel.start_button.isEnabled()


def test_apply_config_fills_the_form(ctl: Any) -> None:
    config = TrainConfig(optimizer="adamw", lr=0.003, schedule="cosine", milestones=[0.4], gamma=0.5,
                         label_smoothing=0.1, augment=True, mixup_alpha=1.0, clip="norm", clip_value=5.0,
                         epochs=12, batch_size=64, device="cpu", cpu_threads=1, val_every=0)
    ctl.panel.apply_config(config)
    assert ctl.panel.config() == config
    ctl.panel.apply_config(TrainConfig(device="cuda:3"))  # trained elsewhere: kept, marked
    assert ctl.panel.values()["device"] == "cuda:3"
    assert "not found here" in ctl.panel.device.currentText()


def _new_window(qtbot: Any, tmp_path: Path) -> Any:
    from gui import files
    from gui.mainwindow import MainWindow

    files.discard_recovery()
    win = MainWindow(background=False)
    win.autosaver.folder = tmp_path / "appdata2"
    win.autosaver.folder.mkdir(exist_ok=True)
    qtbot.addWidget(win)
    win.show()
    return win


def test_settings_are_remembered_per_graph_file_and_across_restarts(qtbot: Any, window: Any,
                                                                     tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(GRAPHS / "resnet20.json", a)
    shutil.copy(GRAPHS / "plain20.json", b)
    panel = window.training.panel
    window.files.load(a)
    type_into(panel.widget("epochs"), "7")
    panel.set_values(optimizer="adam", label_smoothing=0.1)
    window.files.load(b)
    assert panel.values()["epochs"] == 7  # a file seen for the first time: the last used
    type_into(panel.widget("epochs"), "9")
    window.files.load(a)
    assert (panel.values()["epochs"], panel.values()["optimizer"]) == (7, "adam")
    window.files.load(b)
    assert panel.values()["epochs"] == 9
    window.document.set_graph(tiny_cnn())  # unsaved: the last used
    assert panel.values()["epochs"] == 9
    type_into(panel.widget("lr"), "0")  # a bad value is not remembered
    window.document.undo_stack.setClean()
    again = _new_window(qtbot, tmp_path)  # a restart
    again.files.load(a)
    values = again.training.panel.values()
    assert (values["epochs"], values["optimizer"], values["label_smoothing"]) == (7, "adam", 0.1)
    again.files.load(b)
    assert again.training.panel.values()["epochs"] == 9 and again.training.panel.values()["lr"] == 0.05
    again.document.undo_stack.setClean()


def test_set_values_refuses_a_name_that_is_not_a_setting(ctl: Any) -> None:
    with pytest.raises(ValueError, match=r"threads \(did you mean cpu_threads\?\)"):
        ctl.panel.set_values(threads=1)
    with pytest.raises(ValueError, match=r"batch \(did you mean batch_size\?\)"):
        ctl.panel.set_values(batch=4)


def test_numbers_are_typed_as_a_person_writes_them(ctl: Any) -> None:
    panel = ctl.panel
    type_into(panel.widget("lr"), "1e-3")
    type_into(panel.widget("weight_decay"), "5e-4")
    type_into(panel.widget("warmup_epochs"), "2.5")
    type_into(panel.widget("epochs"), "1")
    values = panel.values()
    assert (values["lr"], values["weight_decay"], values["warmup_epochs"], values["epochs"]) == (
        0.001, 0.0005, 2.5, 1)
    assert panel.widget("epochs").text() == "1 epoch" and panel.widget("warmup_epochs").text() == "2.5 epochs"
    assert panel.widget("mixup_alpha").text() == "off" and panel.widget("image_size").text() == "native size"
    type_into(panel.widget("lr"), "abc")  # refused as typed: the value stays
    assert panel.values()["lr"] == 0.001
