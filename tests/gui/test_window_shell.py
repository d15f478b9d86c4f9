"""The window's shell: shortcuts registered once, Ctrl+Q, the application's names and data
folder, Open Recent with folders, and never-saved graphs that ask before they are dropped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QStandardPaths
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from gui import commands, files
from gui.template_dialog import TemplateDialog

from .conftest import GRAPHS, ROOT
from .window_helpers import escaped, menu_action, menu_texts  # noqa: F401 (escaped: a fixture)

pytestmark = pytest.mark.usefixtures("escaped")
Answer = QMessageBox.StandardButton


def shortcut_owners(window: Any) -> dict[str, list[str]]:
    """Every key sequence of every action and QShortcut in the window → who registered it
    (once per registration: one action listing a sequence twice counts twice)."""
    owners: dict[str, list[str]] = defaultdict(list)
    actions = set(window.findChildren(QAction)) | set(window.actions())
    for action in actions:
        for sequence in action.shortcuts():
            owners[sequence.toString(QKeySequence.SequenceFormat.PortableText)].append(action.text())
    for shortcut in window.findChildren(QShortcut):
        owners[shortcut.key().toString(QKeySequence.SequenceFormat.PortableText)].append("QShortcut")
    return owners


def test_every_shortcut_is_registered_once(window) -> None:  # type: ignore[no-untyped-def]
    assert window.training is not None  # the Train menu's actions are part of the count
    owners = shortcut_owners(window)
    twice = {key: who for key, who in owners.items() if len(who) > 1}
    assert not twice, f"shortcuts registered more than once: {twice}"
    assert {"Ctrl+Q", "Ctrl+N", "Ctrl+O", "Ctrl+S", "Ctrl+Z", "Ctrl+T"} <= set(owners)
    assert owners["Ctrl+Q"] == ["&Quit"] and owners["Ctrl+T"] == ["&Start Training"]


def test_ctrl_q_closes_the_window(window, qtbot, qtlog) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitActive(window)
    QTest.keySequence(window, QKeySequence("Ctrl+Q"))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert not [r.message for r in qtlog.records if "mbiguous" in r.message]


def test_ctrl_q_with_unsaved_changes_asks_first(window, qtbot, boxes) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 7))
    window.activateWindow()
    qtbot.waitActive(window)
    boxes.answer = Answer.Cancel
    QTest.keySequence(window, QKeySequence("Ctrl+Q"))
    assert boxes.kinds() == ["question"] and window.isVisible()
    boxes.answer = Answer.Discard
    QTest.keySequence(window, QKeySequence("Ctrl+Q"))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


XCB_DRIVER = """
import sys
from PySide6.QtCore import QTimer, qInstallMessageHandler
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
messages = []
qInstallMessageHandler(lambda kind, context, text: messages.append(text))
app = QApplication(["skipwire"])
from gui.mainwindow import MainWindow
window = MainWindow(background=False)
window.show()
def press():
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 3000)
    QTest.keySequence(window, QKeySequence("Ctrl+Q"))
    QTimer.singleShot(500, lambda: app.exit(0 if not window.isVisible() else 3))
QTimer.singleShot(300, press)
QTimer.singleShot(20000, lambda: app.exit(4))
code = app.exec()
print("AMBIGUOUS" if any("mbiguous" in m for m in messages) else "CLEAN", code)
"""


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (Debian: apt-get install xvfb)")
def test_ctrl_q_quits_on_a_real_x_screen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Under xcb the platform's standard Quit key is Ctrl+Q too: that is where a shortcut
    listed both as StandardKey.Quit and as "Ctrl+Q" became ambiguous and did nothing."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            display = pipe.readline().strip()
        env = dict(os.environ, DISPLAY=f":{display}", QT_QPA_PLATFORM="xcb",
                   XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"))
        out = subprocess.run([sys.executable, "-c", XCB_DRIVER], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    assert out.stdout.split()[-2:] == ["CLEAN", "0"], out.stdout + out.stderr


def test_the_application_is_named_skipwire_whatever_argv0_was(qapp) -> None:  # type: ignore[no-untyped-def]
    QCoreApplication.setApplicationName("main.py")  # what Qt takes from `python main.py`
    files.ensure_app_names()
    assert QCoreApplication.applicationName() == "Skipwire"
    assert QCoreApplication.organizationName() == "Skipwire"
    assert qapp.applicationDisplayName() == "Skipwire"
    folder = files.data_dir()
    assert folder.parts[-2:] == ("Skipwire", "Skipwire") and "main.py" not in folder.parts
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    assert Path(location) == folder


def test_data_from_the_old_main_py_folder_moves_over(qapp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    new = tmp_path / "Skipwire" / "Skipwire"
    old = tmp_path / "Skipwire" / "main.py"
    (old / "runs" / "20250101-000000-001-resnet20").mkdir(parents=True)
    (old / "runs" / "20250101-000000-001-resnet20" / "metrics.csv").write_text("epoch\n1\n")
    (old / files.RECOVERY_NAME).write_text("{}")
    (new / "runs" / "20250202-000000-001-lenet").mkdir(parents=True)
    (new / "notes.txt").write_text("new")
    (old / "notes.txt").write_text("old")
    moved = files.migrate_legacy_data(new)
    assert (new / "runs" / "20250101-000000-001-resnet20" / "metrics.csv").read_text() == "epoch\n1\n"
    assert (new / "runs" / "20250202-000000-001-lenet").is_dir()
    assert (new / files.RECOVERY_NAME).is_file()
    assert (new / "notes.txt").read_text() == "new" and (old / "notes.txt").read_text() == "old"
    assert not (old / "runs").exists()
    assert set(moved) == {new / "runs" / "20250101-000000-001-resnet20", new / files.RECOVERY_NAME}
    assert files.migrate_legacy_data(new) == []


def test_open_recent_shows_each_file_with_its_folder(window, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window.files.recent.clear()
    home = Path.home()
    mine = home / "proj" / "graphs"
    mine.mkdir(parents=True, exist_ok=True)
    first, second = mine / "resnet20.json", tmp_path / "other" / "resnet20.json"
    second.parent.mkdir()
    for path in (first, second):
        shutil.copy(GRAPHS / "resnet20.json", path)
        window.files.recent.add(path)
    texts = menu_texts(window, "File", "Open Recent")
    assert texts[:2] == [f"resnet20.json — {second.parent}", "resnet20.json — ~/proj/graphs"]
    menu_action(window, "File", "Open Recent", "resnet20.json — ~/proj/graphs").trigger()
    assert window.document.path == first.resolve()


def test_a_template_never_saved_asks_before_it_is_replaced(window, boxes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(TemplateDialog, "exec", lambda self: (self.accept(), 1)[-1])
    menu_action(window, "File", "Open Template…").trigger()
    doc = window.document
    assert doc.path is None and doc.graph.name == "resnet20" and doc.undo_stack.count() == 0
    assert doc.modified and "*" in window.windowTitle()
    boxes.answer = Answer.Cancel
    menu_action(window, "File", "New").trigger()
    assert boxes.kinds() == ["question"] and "never been saved" in boxes.calls[0][2]
    assert doc.graph.name == "resnet20"
    assert not window.close() and window.isVisible()  # closing asks too
    assert boxes.kinds() == ["question", "question"]
    boxes.answer = Answer.Discard
    menu_action(window, "File", "New").trigger()
    assert len(doc.graph) == 0 and not doc.modified


def test_a_saved_template_is_clean_and_undo_does_not_make_it_unsaved(window, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(TemplateDialog, "exec", lambda self: (self.accept(), 1)[-1])
    menu_action(window, "File", "Open Template…").trigger()
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 7))
    doc.undo_stack.undo()
    assert doc.modified  # back to the template, which is still on no disk
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "mine.json"), "")))
    menu_action(window, "File", "Save").trigger()
    assert doc.path == tmp_path / "mine.json" and not doc.modified


def test_an_imported_module_never_saved_asks_first(window, boxes, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from gui import export_dialogs
    from tests.export.test_import import HAND_WRITTEN

    source = tmp_path / "hand.py"
    source.write_text(HAND_WRITTEN, encoding="utf-8")
    answers = {"open": source, "item": "TinyResNet", "text": "3x8x8"}
    for name, value in answers.items():
        monkeypatch.setattr(export_dialogs, f"_ask_{name}", lambda *args, v=value: v)
    monkeypatch.setattr(export_dialogs, "_confirm", lambda *args: True)
    menu_action(window, "File", "Import PyTorch module…").trigger()
    doc = window.document
    assert "layer1_0_conv1" in doc.graph and doc.path is None
    assert doc.modified and "*" in window.windowTitle()
    boxes.answer = Answer.Cancel
    menu_action(window, "File", "New").trigger()
    assert boxes.kinds() == ["question"] and "layer1_0_conv1" in doc.graph


def test_no_dock_tab_bar_floats_over_the_canvas(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Qt 6 left the bar of an intermediate tab group ("Inspector | Training") visible over the
    canvas's left edge; each tab bar on screen belongs to a dock area, outside the canvas."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QTabBar

    def bars_over_canvas() -> list[list[str]]:
        canvas = QRect(window.canvas.mapTo(window, window.canvas.rect().topLeft()), window.canvas.size())
        return [[bar.tabText(i) for i in range(bar.count())] for bar in window.findChildren(QTabBar)
                if bar.parent() is window and bar.isVisible() and bar.geometry().intersects(canvas)]

    qtbot.waitUntil(lambda: window.canvas.isVisible())
    assert bars_over_canvas() == []
    menu_action(window, "View", "Reset Layout").trigger()  # restores the state: no bar comes back
    qtbot.wait(50)
    assert bars_over_canvas() == []


def test_a_new_graph_is_a_hint_not_errors(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """File › New: the Diagnostics say how to start, the status bar is not red, the tab has no
    count; the first block brings the real problems back."""
    from gui.diagnostics_view import EMPTY_HINT

    menu_action(window, "File", "New").trigger()
    assert len(window.document.graph) == 0
    rows = [window.diagnostics.topLevelItem(i).text(2) for i in range(window.diagnostics.topLevelItemCount())]
    assert rows == [EMPTY_HINT]
    assert window.diagnostics_dock.windowTitle() == "Diagnostics"
    status = window.totals_text()
    assert "error" not in status and "empty graph" in status
    assert window.totals.styleSheet() == ""  # not red
    from PySide6.QtCore import QPointF

    from tests.gui.test_canvas import drop_block

    drop_block(window.canvas, "input", QPointF(200, 150))  # dropped from the palette
    rows = [window.diagnostics.topLevelItem(i).text(2) for i in range(window.diagnostics.topLevelItemCount())]
    assert any("no Output" in r for r in rows) and window.diagnostics_dock.windowTitle() == "Diagnostics (1)"
