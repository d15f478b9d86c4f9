"""The start page: what `python main.py` shows without a file, its buttons, recent files with
folders, templates with drawn previews, and one-click experiments through the Train menu."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMessageBox

from builder import fileformat
from gui import commands, files
from gui.start_page import EXPERIMENTS, StartPage, TemplateCard, preview, train_menu_action

from .conftest import GRAPHS
from .window_helpers import escaped, menu_action  # noqa: F401 (escaped: a fixture)

pytestmark = pytest.mark.usefixtures("escaped")
Answer = QMessageBox.StandardButton


def _docks(window: Any) -> list[QDockWidget]:
    return window.findChildren(QDockWidget)


def _shown(window: Any) -> set[str]:
    """The docks that are part of the layout (a tab behind another counts as shown)."""
    return {d.objectName() for d in _docks(window) if d.toggleViewAction().isChecked()}


def _click(button: Any) -> None:
    """A person's click on ``button``, once it is on screen (a widget added to a shown layout
    appears on the next event-loop turn)."""
    QApplication.processEvents()
    assert button.isVisible() and button.isEnabled(), button.text()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def start(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    """A shown window on its start page, the way ``python main.py`` opens it."""
    from gui.mainwindow import MainWindow

    files.discard_recovery()
    files.RecentFiles().clear()
    win = MainWindow(background=False)
    win.autosaver.folder = tmp_path / "appdata"
    win.autosaver.folder.mkdir()
    win.training.runs_root = tmp_path / "runs"
    qtbot.addWidget(win)
    win.show_start_page()
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.training is not None:
        win.training.stop_and_wait(120_000)
    win.document.undo_stack.setClean()


def test_main_py_without_a_file_opens_the_start_page(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``gui.app.run([])`` itself: the start page, nothing on the canvas, and the training docks
    (installed after the first paint) put away with the others."""
    from gui import app
    from gui.mainwindow import MainWindow

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs its own
    files.discard_recovery()
    seen: dict[str, Any] = {}
    original_show = MainWindow.show

    def show(window: MainWindow) -> None:
        original_show(window)
        seen["window"] = window

        def look() -> None:
            if window.training is None:  # installed on the turn after the first paint
                QTimer.singleShot(50, look)
                return
            seen.update(start=window.on_start_page(), blocks=len(window.document.graph),
                        docks=_shown(window),
                        title=window.windowTitle(), previews=window.start_page.previews_done())
            QApplication.instance().exit(0)

        QTimer.singleShot(100, look)

    monkeypatch.setattr(MainWindow, "show", show)
    guard = QTimer(singleShot=True, interval=60_000)  # never left behind to end a later test's loop
    guard.timeout.connect(lambda: QApplication.instance().exit(9))
    guard.start()
    try:
        assert app.run([]) == 0
    finally:
        guard.stop()
    window = seen["window"]
    qtbot.addWidget(window)
    assert seen["start"] and seen["blocks"] == 0 and seen["docks"] == set()
    assert seen["title"] == "Start — Skipwire"
    assert window.pages.currentWidget() is window.start_page
    _click(window.start_page.new_button)  # the docks, training's too, come back for the editor
    assert {"palette_dock", "inspector_dock", "diagnostics_dock", "plots_dock"} <= _shown(window)


def test_new_blank_graph_and_back_to_the_start_page(start, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert start.on_start_page() and not _shown(start)
    assert not start.totals.isVisible()
    _click(start.start_page.new_button)
    assert not start.on_start_page() and start.pages.currentWidget() is start.canvas
    assert len(start.document.graph) == 0 and start.palette_dock.isVisible()
    assert start.totals.isVisible() and "untitled" in start.windowTitle()
    start.inspector_dock.hide()  # the editor's own layout survives a visit to the start page
    menu_action(start, "File", "Start Page").trigger()
    assert start.on_start_page() and not start.palette_dock.isVisible()
    assert not start.start_page.back_button.isVisible()  # an empty graph: nothing to go back to
    _click(start.start_page.new_button)
    assert start.palette_dock.isVisible() and not start.inspector_dock.isVisible()


def test_a_template_card_opens_an_unsaved_copy(start, qtbot, boxes) -> None:  # type: ignore[no-untyped-def]
    page = start.start_page
    qtbot.waitUntil(page.previews_done, timeout=30_000)
    card = next(c for c in page.cards if c.path.name == "resnet56.json")
    assert not card.icon().isNull() and "199 blocks" in card.text() and "3×32×32" in card.text()
    _click(card)
    doc = start.document
    assert not start.on_start_page() and doc.path is None
    assert doc.graph.signature() == fileformat.load(GRAPHS / "resnet56.json").signature()
    assert doc.modified and "(unsaved)" in start.windowTitle()
    menu_action(start, "File", "Start Page").trigger()
    assert page.back_button.isVisible() and "resnet56" in page.back_button.text()
    _click(page.back_button)
    assert not start.on_start_page() and doc.graph.name == "resnet56"
    menu_action(start, "File", "Start Page").trigger()
    boxes.answer = Answer.Cancel  # a never-saved graph asks before a template replaces it
    _click(next(c for c in page.cards if c.path.name == "lenet.json"))
    assert boxes.kinds() == ["question"] and doc.graph.name == "resnet56" and start.on_start_page()


def test_recent_files_show_name_and_folder_and_open(start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mine = Path.home() / "graphs-here"
    mine.mkdir(exist_ok=True)
    first = mine / "lenet.json"
    first.write_bytes((GRAPHS / "lenet.json").read_bytes())
    page = start.start_page
    assert page.no_recent.isVisible() and not page.recent_buttons
    start.files.recent.add(first)
    menu_action(start, "File", "Start Page").trigger()
    assert [b.text() for b in page.recent_buttons] == ["lenet.json — ~/graphs-here"]
    assert not page.no_recent.isVisible()
    _click(page.recent_buttons[0])
    assert start.document.path == first.resolve() and not start.on_start_page()


def test_the_page_fits_when_the_window_narrows(start, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Shown wide, then narrowed: fewer template columns and a cut recent-file name, never a page
    cut at the right edge (there is no horizontal scroll bar)."""
    page = start.start_page
    start.files.recent.add(Path.home() / "a-folder-with-a-rather-long-name" / "and-a-long-file-name.json")
    menu_action(start, "File", "Start Page").trigger()
    start.resize(1600, 1000)
    qtbot.waitUntil(lambda: page.viewport().width() > 1400)
    start.resize(900, 700)
    qtbot.waitUntil(lambda: page.viewport().width() < 950)
    QTest.qWait(50)
    body = page.widget()
    assert body.width() <= page.viewport().width(), (body.width(), page.viewport().width())
    for widget in [*page.cards, *page.recent_buttons]:
        right = widget.mapTo(body, widget.rect().topRight()).x()
        assert right <= page.viewport().width(), (widget, right)


def test_open_and_more_templates_buttons(start, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gui.template_dialog import TemplateDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    _click(start.start_page.open_button)  # cancelled: the start page stays
    assert start.on_start_page()
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(GRAPHS / "vgg16.json"), "")))
    _click(start.start_page.open_button)
    assert start.document.path == GRAPHS / "vgg16.json" and not start.on_start_page()
    menu_action(start, "File", "Start Page").trigger()
    monkeypatch.setattr(TemplateDialog, "exec", lambda self: (self.depth_box.setCurrentIndex(2),
                                                              self.accept(), 1)[-1])
    _click(start.start_page.templates_button)
    assert start.document.graph.name == "resnet32" and not start.on_start_page()


def _spy(window: Any, prefix: str) -> list[bool]:
    action = train_menu_action(window, prefix)
    assert action is not None and menu_action(window, "Train", action.text().replace("&", "")) is action
    fired: list[bool] = []
    action.triggered.connect(lambda checked=False: fired.append(checked))
    return fired


def test_reproduce_he_et_al_runs_compare_depths_on_digits(start, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctl = start.training
    ctl.panel.set_values(dataset="synthetic", epochs=1, device="cpu", cpu_threads=1)
    fired = _spy(start, "Compare Depths")
    _click(start.start_page.experiment_buttons["he2015"])
    assert fired == [False]  # the Train menu's own QAction
    assert start.document.path == GRAPHS / "resnet56.json" and not start.on_start_page()
    assert ctl.running
    names = [r.name.split(" · ")[0] for r in ctl.active]  # "plain20 · digits · #1": the files' names
    assert names == ["plain20", "plain56", "resnet20", "resnet56"]
    assert {r.config.dataset for r in ctl.active} == {"digits"}
    assert ctl.stop_and_wait(120_000)  # the thread may still be importing torch


def test_train_resnet20_on_digits_starts_training(start, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctl = start.training
    ctl.panel.set_values(dataset="synthetic", epochs=1, device="cpu", cpu_threads=1)
    fired = _spy(start, "Start Training")
    _click(start.start_page.experiment_buttons["resnet20"])
    assert fired == [False] and start.document.path == GRAPHS / "resnet20.json"
    assert ctl.running and [r.config.dataset for r in ctl.active] == ["digits"]
    assert ctl.stop_and_wait(120_000)  # the thread may still be importing torch


def test_an_experiment_keeps_unsaved_work_when_cancelled(start, boxes) -> None:  # type: ignore[no-untyped-def]
    _click(start.start_page.new_button)
    doc = start.document
    doc.undo_stack.push(commands.AddBlock(doc, "relu", (0.0, 0.0)))
    menu_action(start, "File", "Start Page").trigger()
    boxes.answer = Answer.Cancel
    fired = _spy(start, "Compare Depths")
    _click(start.start_page.experiment_buttons["he2015"])
    assert boxes.kinds() == ["question"] and fired == [] and len(doc.graph) == 1
    assert not start.training.running


def test_an_experiment_during_a_run_says_so_and_leaves_the_graph(start, boxes) -> None:  # type: ignore[no-untyped-def]
    ctl = start.training
    ctl.panel.set_values(dataset="synthetic", epochs=1, device="cpu", cpu_threads=1)
    _click(start.start_page.experiment_buttons["resnet20"])
    assert ctl.running
    menu_action(start, "File", "Start Page").trigger()
    fired = _spy(start, "Compare Depths")
    _click(start.start_page.experiment_buttons["he2015"])
    assert fired == [] and start.document.path == GRAPHS / "resnet20.json" and start.on_start_page()
    assert "a run is in progress" in start.statusBar().currentMessage()
    assert ctl.stop_and_wait(120_000)


def test_preview_draws_blocks_where_the_canvas_puts_them(qapp) -> None:  # type: ignore[no-untyped-def]
    graph = fileformat.load(GRAPHS / "lenet.json")
    image = preview(graph).toImage()
    background = QColor("#f6f8fa").rgb()
    drawn = sum(image.pixel(x, y) != background for x in range(image.width()) for y in range(image.height()))
    assert 0.02 < drawn / (image.width() * image.height()) < 0.6
    assert TemplateCard(GRAPHS / "lenet.json", "LeNet").text().startswith("LeNet")


def test_a_damaged_template_file_says_so_on_its_card(qapp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    card = TemplateCard(bad, "Broken")
    card.load()
    assert not card.isEnabled() and "cannot be read" in card.text() and "bad.json" in card.toolTip()


def test_every_experiment_names_a_shipped_graph_and_a_train_action(start) -> None:  # type: ignore[no-untyped-def]
    for experiment in EXPERIMENTS.values():
        assert (GRAPHS / experiment.graph).is_file()
        assert train_menu_action(start, experiment.action) is not None
    assert isinstance(start.start_page, StartPage)
