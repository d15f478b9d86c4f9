"""Files through the window: save/open round trip, prompts, errors, recent files, recovery."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from builder import fileformat
from gui import commands, files
from gui.template_dialog import DEPTHS, TemplateDialog, build, extra_options

from .conftest import GRAPHS

Answer = QMessageBox.StandardButton


def _answer_files(monkeypatch, open_path=None, save_path=None):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(open_path or ""), "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(save_path or ""), "")))


def test_save_as_then_open_round_trip(window, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 100))
    assert doc.modified and "*" in window.windowTitle()
    target = tmp_path / "mine"  # no suffix: .json is added
    _answer_files(monkeypatch, save_path=target)
    window.actions_by_name["save_as"].trigger()
    saved = tmp_path / "mine.json"
    assert saved.is_file() and doc.path == saved
    assert not doc.modified and "*" not in window.windowTitle() and "mine.json" in window.windowTitle()
    expected = doc.graph.signature()
    window.actions_by_name["new"].trigger()
    assert len(doc.graph) == 0
    _answer_files(monkeypatch, open_path=saved)
    window.actions_by_name["open"].trigger()
    assert doc.graph.signature() == expected
    assert doc.path == saved
    assert saved.resolve() in window.files.recent.paths()


def test_save_writes_to_the_current_path(window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    target = tmp_path / "r20.json"
    assert window.files.write(target)
    doc.undo_stack.push(commands.Rename(doc, "fc", "classifier"))
    window.actions_by_name["save"].trigger()
    assert "classifier" in fileformat.load(target)


def test_unsaved_changes_prompt_cancel_keeps_the_graph(window, boxes) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 7))
    before = doc.graph.signature()
    boxes.answer = Answer.Cancel
    window.actions_by_name["new"].trigger()
    assert boxes.kinds() == ["question"]
    assert doc.graph.signature() == before and doc.modified
    boxes.answer = Answer.Discard
    window.actions_by_name["new"].trigger()
    assert len(doc.graph) == 0 and not doc.modified


def test_prompt_save_goes_through_save_as(window, boxes, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.path = None
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 7))
    boxes.answer = Answer.Save
    _answer_files(monkeypatch, save_path=tmp_path / "kept.json")
    window.actions_by_name["new"].trigger()
    assert fileformat.load(tmp_path / "kept.json").block("fc").params["out_features"] == 7
    assert len(doc.graph) == 0


def test_close_with_changes_asks_and_cancel_keeps_window(window, boxes) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 7))
    boxes.answer = Answer.Cancel
    assert not window.close()
    assert window.isVisible() and boxes.kinds() == ["question"]


def test_bad_file_shows_one_line_and_keeps_the_document(window, boxes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "skipwire-graph", "format_version": 1, "blocks": 3}')
    before = window.document.graph.signature()
    assert not window.files.open(bad)
    assert boxes.kinds() == ["critical"]
    message = boxes.calls[0][2]
    assert "bad.json" in message and "\n" not in message
    assert window.document.graph.signature() == before


def test_recent_files_prune_missing_and_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    recent = files.RecentFiles()
    recent.clear()
    paths = []
    for i in range(files.MAX_RECENT + 3):
        path = tmp_path / f"g{i}.json"
        path.write_text("{}")
        recent.add(path)
        paths.append(path.resolve())
    listed = recent.paths()
    assert listed == paths[::-1][: files.MAX_RECENT]
    listed[0].unlink()
    assert recent.paths() == paths[::-1][1: files.MAX_RECENT]


def test_autosave_writes_recovery_and_removes_it_when_clean(window) -> None:  # type: ignore[no-untyped-def]
    doc, saver = window.document, window.autosaver
    assert saver.timer.interval() == files.AUTOSAVE_MS and saver.timer.isActive()
    assert not saver.save_now()  # nothing modified, nothing written
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 33))
    assert saver.save_now()
    found = files.find_recovery(saver.folder)
    assert found is not None and found.original == GRAPHS / "resnet20.json"
    assert found.load().signature() == doc.graph.signature()
    meta = json.loads((saver.folder / files.SIDECAR_NAME).read_text())
    assert meta["original_path"].endswith("resnet20.json")
    doc.undo_stack.undo()  # back to the saved state: no unsaved work, no recovery file
    assert files.find_recovery(saver.folder) is None


def _crashed_session(folder: Path):  # type: ignore[no-untyped-def]
    """A second document that autosaved into ``folder`` and then 'crashed'."""
    from gui.document import Document

    other = Document(fileformat.load(GRAPHS / "lenet.json"))
    other.path = GRAPHS / "lenet.json"
    other.undo_stack.push(commands.Rename(other, "fc1", "dense1"))
    saver = files.Autosaver(other, folder=folder, interval_ms=10_000_000)
    assert saver.save_now()
    saver.timer.stop()
    return other.graph.signature()


def test_recovery_is_offered_and_restored_as_unsaved(window, boxes) -> None:  # type: ignore[no-untyped-def]
    expected = _crashed_session(window.autosaver.folder)
    boxes.answer = Answer.Yes
    assert window.files.offer_recovery()
    assert boxes.kinds() == ["question"] and "lenet.json" in boxes.calls[0][2]
    doc = window.document
    assert doc.graph.signature() == expected
    assert doc.modified and doc.path == GRAPHS / "lenet.json" and "*" in window.windowTitle()


def test_declined_recovery_is_discarded(window, boxes) -> None:  # type: ignore[no-untyped-def]
    _crashed_session(window.autosaver.folder)
    before = window.document.graph.signature()
    boxes.answer = Answer.No
    assert not window.files.offer_recovery()
    assert window.document.graph.signature() == before
    assert files.find_recovery(window.autosaver.folder) is None
    assert not window.files.offer_recovery() and len(boxes.calls) == 1


def test_template_dialog_builds_every_depth_and_kind(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    assert DEPTHS[0] == 20 and DEPTHS[-1] == 110 and all((d - 2) % 6 == 0 for d in DEPTHS)
    dialog.plain.setChecked(True)
    assert not dialog.shortcut_box.isEnabled()
    dialog.depth_box.setCurrentIndex(DEPTHS.index(32))
    graph = dialog.graph()
    assert graph.name == "plain32" and not any(b.type == "add" for b in graph.blocks())
    dialog.residual.setChecked(True)
    dialog.shortcut_box.setCurrentIndex(1)
    dialog.classes.setValue(100)
    graph = dialog.graph()
    assert graph.name == "resnet32b" and graph.block("fc").params["out_features"] == 100
    names = [dialog.list.item(i).data(256) for i in range(dialog.list.count())]
    assert {"vgg16", "lenet"} <= set(names)
    for name in names[1:]:
        assert len(build(name, {"input_shape": (3, 32, 32), "num_classes": 10})) > 3, name


def test_zoo_options_reach_the_generator(qtbot) -> None:  # type: ignore[no-untyped-def]
    from builder import templates

    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    for row in range(dialog.list.count()):
        name = dialog.list.item(row).data(256)
        dialog.list.setCurrentRow(row)
        generator = templates.TEMPLATES[name][0] if name != "cifar" else None
        expected = set(extra_options(generator))
        assert set(dialog.extra) == expected, name
    wide = next(r for r in range(dialog.list.count()) if dialog.list.item(r).data(256) == "wide_resnet")
    dialog.list.setCurrentRow(wide)
    dialog.extra["depth"].setValue(16)
    dialog.extra["widen"].setValue(2)
    assert dialog.options()["depth"] == 16 and dialog.options()["widen"] == 2
    dialog.extra["depth"].setValue(17)  # not 6n+4: refused with a message, the dialog stays open
    dialog.accept()
    assert dialog.built_graph() is None and "Cannot build" in dialog.error.text()


def test_open_template_replaces_the_graph(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(TemplateDialog, "exec", lambda self: (self.depth_box.setCurrentIndex(1),
                                                              self.accept(), 1)[-1])
    window.actions_by_name["template"].trigger()
    assert window.document.graph.name == "resnet26"
    assert window.document.path is None and "resnet26" in window.windowTitle()


def test_dock_layout_is_remembered(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.mainwindow import MainWindow

    window.summary_dock.setFloating(True)
    window.palette_dock.hide()
    window.save_layout()
    second = MainWindow(background=False)
    qtbot.addWidget(second)
    assert second.summary_dock.isFloating()
    assert second.palette_dock.isHidden()
    second.reset_layout()
    assert not second.summary_dock.isFloating() and not second.palette_dock.isHidden()
    second.save_layout()


def test_damaged_recovery_is_kept_aside_not_offered_again(window, boxes) -> None:  # type: ignore[no-untyped-def]
    folder = window.autosaver.folder
    (folder / files.RECOVERY_NAME).write_text('{"format": "skipwire-graph", "blocks": [')
    before = window.document.graph.signature()
    boxes.answer = Answer.Yes
    assert not window.files.offer_recovery()
    assert boxes.kinds() == ["question", "critical"]
    assert window.document.graph.signature() == before
    assert files.find_recovery(folder) is None
    kept = list(folder.glob("recovery-damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text().endswith("[")


def test_dropping_a_graph_file_opens_it(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(GRAPHS / "lenet.json"))])
    where, action = QPoint(5, 5), Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, action, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(where), action, mime, buttons, mods))
    qtbot.waitUntil(lambda: window.document.path == GRAPHS / "lenet.json")
    assert window.document.graph.name == fileformat.load(GRAPHS / "lenet.json").name
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile("/tmp/picture.png")])
    refused = QDragEnterEvent(where, action, other, buttons, mods)
    refused.ignore()
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_training_installed_after_start_keeps_its_saved_place(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDockWidget

    from gui.mainwindow import MainWindow

    assert window.training is not None  # gui.training is part of this build
    names = {d.objectName() for d in window.findChildren(QDockWidget)} - {
        "palette_dock", "inspector_dock", "diagnostics_dock", "summary_dock"}
    moved = next(d for d in window.findChildren(QDockWidget) if d.objectName() in names)
    moved.setFloating(True)
    window.save_layout()
    late = MainWindow(background=False, training=False)
    qtbot.addWidget(late)
    assert late.training is None
    late.install_training()
    assert late.training is not None
    again = next(d for d in late.findChildren(QDockWidget) if d.objectName() == moved.objectName())
    assert again.isFloating()
    late.reset_layout()
    assert not again.isFloating()
    late.save_layout()
