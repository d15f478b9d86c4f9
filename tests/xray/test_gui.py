"""The X-ray dock driven as a person does: menu actions, buttons, typed paths, Stop."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from builder import fileformat
from builder.training import Trainer
from builder.training.datasets import synthetic
from builder.xray.diff import skip_wires
from builder.xray.runs import SPLIT_CSV
from builder.xray.split import SplitProbe, write_csv
from gui.commands import SetParam
from tests.gui.conftest import boxes  # noqa: F401  (message boxes recorded, never shown)
from tests.training.conftest import quick_config
from tests.xray.conftest import tiny

WAIT_MS = 120_000
DEBOUNCE_WAIT_MS = 1000  # longer than the panel's 400 ms pause after an edit


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Exceptions that reach sys.excepthook (an exception escaping a slot lands there)."""
    caught: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: caught.append(exc))
    return caught


@pytest.fixture
def xwindow(qtbot, tmp_path: Path, errors):  # type: ignore[no-untyped-def]
    """A shown window on the tiny ResNet-8 with the X-ray installed (pre-flight on synthetic data)."""
    from gui import files
    from gui.mainwindow import MainWindow
    from gui.xray import install_xray

    files.discard_recovery()
    path = tmp_path / "resnet8.json"
    fileformat.save(tiny(True), path)
    win = MainWindow(background=False, training=False)
    win.autosaver.folder = tmp_path / "appdata"
    win.autosaver.folder.mkdir()
    qtbot.addWidget(win)
    win.files.load(path)
    xray = install_xray(win)
    xray.preflight.auto.setChecked(False)
    xray.preflight.data_choice.setCurrentText("synthetic")
    xray.preflight.batch.setValue(32)
    win.show()
    qtbot.waitExposed(win)
    yield win, xray
    xray.shutdown()
    win.document.undo_stack.setClean()
    assert errors == []


def menu_action(win, menu_text: str, action_text: str):  # type: ignore[no-untyped-def]
    menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == menu_text)
    return next(a for a in menu.actions() if a.text().replace("&", "") == action_text)


def click(widget) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def show_tab(xray, panel) -> None:  # type: ignore[no-untyped-def]
    """Click the panel's tab in the X-ray dock."""
    bar = xray.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(xray.tab_index(panel)).center())
    assert xray.current_panel() is panel


def type_path(field, path: Path | str) -> None:  # type: ignore[no-untyped-def]
    field.edit.clear()
    QTest.keyClicks(field.edit, str(path))


def idle(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.isFinished(), timeout=WAIT_MS)
    qtbot.wait(50)  # the queued done/failed signals


def test_menu_lists_the_instruments_before_help(xwindow) -> None:
    win, xray = xwindow
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles.index("X-ray") == titles.index("Help") - 1
    assert menu_action(win, "X-ray", "Loss Landscape") is xray.actions["landscape"]
    menu_action(win, "X-ray", "Lesion Study").trigger()
    assert xray.dock.isVisible() and xray.current_panel() is xray.lesion


def test_preflight_from_the_menu_tints_the_canvas_and_reruns_on_edits(xwindow, qtbot, monkeypatch) -> None:
    from gui.xray import preflight_panel

    monkeypatch.setattr(preflight_panel, "AUTO_BUDGET_S", 1e9)  # never "too slow" on a busy machine
    win, xray = xwindow
    panel = xray.preflight
    menu_action(win, "X-ray", "Pre-flight Check").trigger()
    idle(qtbot, panel)
    assert panel.verdicts.count() >= 1 and panel.result.graph_name == "resnet8"
    assert panel.verdicts.item(0).text().startswith(("ok: gradient at conv1", "warning:"))
    scene = win.canvas.scene()
    assert scene.blocks["conv1"].tint is not None and scene.blocks["relu1"].tint is None
    click(panel.tint)  # off: the tint goes
    assert scene.blocks["conv1"].tint is None
    click(panel.tint)
    assert scene.blocks["conv1"].tint is not None
    click(panel.auto)  # automatic on: an edit starts a new check
    qtbot.waitUntil(lambda: panel._checks == 2 and panel.job.isFinished(), timeout=WAIT_MS)
    first = panel.result
    win.document.undo_stack.push(SetParam(win.document, "layer1_0_conv1", "out_channels", 6))
    qtbot.waitUntil(lambda: panel._checks == 3 and panel.job.isFinished(), timeout=WAIT_MS)
    assert panel.result.rows != first.rows


def test_automatic_checks_wait_when_a_check_costs_too_much(xwindow, qtbot, monkeypatch) -> None:
    from gui.xray import preflight_panel

    monkeypatch.setattr(preflight_panel, "AUTO_BUDGET_S", 0.0)  # every check is "too slow"
    win, xray = xwindow
    panel = xray.preflight
    click(panel.auto)
    qtbot.waitUntil(lambda: panel._checks == 1 and panel.job.isFinished(), timeout=WAIT_MS)
    click(panel.run_button)  # the first check only warms up; the second one counts
    qtbot.waitUntil(lambda: panel._checks == 2 and panel.job.isFinished(), timeout=WAIT_MS)
    assert "automatic checks wait for Check now" in panel.jobbar.status.text()
    win.document.undo_stack.push(SetParam(win.document, "layer1_0_conv1", "out_channels", 6))
    qtbot.wait(DEBOUNCE_WAIT_MS)
    assert panel._checks == 2 and not panel.job.isRunning()  # no automatic check after the edit


def test_preflight_refuses_a_broken_graph(xwindow, qtbot) -> None:
    win, xray = xwindow
    win.document.undo_stack.push(SetParam(win.document, "layer1_0_conv2", "out_channels", 5))
    qtbot.wait(50)
    click(xray.preflight.run_button)
    assert "fix them to check it" in xray.preflight.jobbar.status.text()
    assert xray.preflight.job is None


@pytest.fixture(scope="module")
def split_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("split_run")
    data = synthetic(n=96, shape=(3, 8, 8), num_classes=4, seed=3)
    probe = SplitProbe()
    Trainer(tiny(True), quick_config(epochs=2), data, split_probe=probe).run()
    write_csv(probe.samples, probe.units, folder / SPLIT_CSV)
    return folder


def load_split(win, xray, run: Path):  # type: ignore[no-untyped-def]
    """X-ray › Gradient Split, the run's folder typed, Load clicked: the panel."""
    panel = xray.split
    menu_action(win, "X-ray", "Gradient Split").trigger()
    type_path(panel.run, run)
    click(panel.load_button)
    return panel


def test_split_panel_loads_a_run_and_thickens_the_skip_wires(xwindow, qtbot, split_run) -> None:
    win, xray = xwindow
    panel = load_split(win, xray, split_run)
    assert len(panel.samples) == 6 and "over 3 units" in panel.summary.text()
    assert set(panel.overlay.items) == skip_wires(win.document.graph)
    widths = {w: i.pen().widthF() for w, i in panel.overlay.items.items()}
    assert all(2.0 <= v <= 16.0 for v in widths.values()) and len(set(widths.values())) > 1
    click(panel.on_canvas)
    assert all(not i.scene() for i in panel.overlay.items.values()) or not panel.overlay.items
    type_path(panel.run, split_run.parent)
    click(panel.load_button)
    assert "no xray_split.csv" in panel.jobbar.status.text()


def test_the_skip_overlay_survives_another_graph_replacing_the_canvas(xwindow, qtbot, split_run) -> None:
    """File › New clears the scene (deleting the overlay's strokes) before the overlay hears of it."""
    win, xray = xwindow
    panel = load_split(win, xray, split_run)
    assert panel.overlay.items
    menu_action(win, "File", "New").trigger()  # the errors fixture fails on an escaped exception
    assert not panel.overlay.items


def test_record_trains_the_open_graph_with_the_probe(xwindow, qtbot, tmp_path, monkeypatch) -> None:
    from gui.xray import split_panel

    monkeypatch.setattr(split_panel, "runs_root", lambda: tmp_path / "runs")
    win, xray = xwindow
    panel = xray.split
    show_tab(xray, panel)
    panel.data_choice.setCurrentText("synthetic")
    panel.epochs.setValue(1)
    click(panel.record_button)
    idle(qtbot, panel)
    assert panel.samples and "Recorded" in panel.jobbar.status.text()
    (folder,) = (tmp_path / "runs").iterdir()
    assert (folder / SPLIT_CSV).is_file() and (folder / "checkpoint.pt").is_file()


def test_lesion_panel_side_by_side(xwindow, qtbot, trained) -> None:
    win, xray = xwindow
    panel = xray.lesion
    show_tab(xray, panel)
    type_path(panel.fields[0], trained["run-plain8"])
    type_path(panel.fields[1], trained["run-resnet8"])
    click(panel.start_button)
    idle(qtbot, panel)
    assert [r.graph_name for r in panel.results] == ["plain8", "resnet8"]
    assert "layer2.0: cannot be deleted" in panel.summary.toPlainText()
    assert panel.view.canvas is not None and len(panel.view.figure.axes) == 2
    assert panel.jobbar.bar.isHidden() and panel.start_button.isEnabled()


def test_lesion_panel_reports_a_folder_without_checkpoint(xwindow, qtbot, tmp_path) -> None:
    _win, xray = xwindow
    panel = xray.lesion
    show_tab(xray, panel)
    type_path(panel.fields[1], tmp_path)
    click(panel.start_button)
    idle(qtbot, panel)
    assert "no checkpoint.pt in this run folder" in panel.jobbar.status.text()


def start_landscape(xray, run: Path, points: int):  # type: ignore[no-untyped-def]
    panel = xray.landscape
    show_tab(xray, panel)
    type_path(panel.fields[1], run)
    panel.points.setValue(points)
    panel.samples.setValue(32)
    click(panel.start_button)
    return panel


def test_landscape_progress_and_stop(xwindow, qtbot, trained) -> None:
    _win, xray = xwindow
    panel = start_landscape(xray, trained["run-resnet8"], 5)
    idle(qtbot, panel)
    assert panel.results[0].status == "completed" and panel.jobbar.bar.value() == 25
    panel.points.setValue(61)
    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.jobbar.bar.value() > 3, timeout=WAIT_MS)
    click(panel.jobbar.stop_button)
    idle(qtbot, panel)
    assert panel.results[0].status == "stopped" and "stopped" in panel.jobbar.status.text()
    assert panel.jobbar.bar.maximum() == 61 * 61 and panel.jobbar.bar.value() < 61 * 61


def test_diff_panel_highlights_both_canvases_and_overlays_runs(xwindow, qtbot, trained) -> None:
    win, xray = xwindow
    panel = xray.diff
    show_tab(xray, panel)
    type_path(panel.file, trained["plain8"])  # A = resnet8 (open), B = plain8
    click(panel.compare_button)
    assert panel.summary.text().startswith("resnet8 → plain8: blocks 0 added, 5 removed")
    assert panel.tree.topLevelItemCount() == 5 + len(panel.changes.wires)
    scene = win.canvas.scene()
    assert scene.blocks["layer1_0_add"].tint is not None and scene.blocks["conv1"].tint is None
    assert panel.other_view is not None and panel.other_view.scene().blocks.keys() == set(
        fileformat.load(trained["plain8"]).ids())
    click(panel.highlight)
    assert scene.blocks["layer1_0_add"].tint is None
    type_path(panel.runs[0], trained["run-resnet8"])
    type_path(panel.runs[1], trained["run-plain8"])
    click(panel.overlay_button)
    assert panel.view.canvas is not None
    assert [line.get_label() for line in panel.view.figure.axes[0].lines] == ["resnet8", "plain8"]


def test_closing_the_window_stops_a_running_landscape(xwindow, qtbot, trained) -> None:
    win, xray = xwindow
    panel = start_landscape(xray, trained["run-resnet8"], 81)
    qtbot.waitUntil(lambda: panel.jobbar.bar.value() > 1, timeout=WAIT_MS)
    win.document.undo_stack.setClean()
    win.close()
    qtbot.waitUntil(lambda: panel.job.isFinished(), timeout=WAIT_MS)
    assert panel.job.stopping
