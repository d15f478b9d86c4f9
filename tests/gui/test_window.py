"""Main window: palette → graph, inspector edits, diagnostics, undo/redo of every action."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QInputDialog, QSpinBox

from builder.graph import Graph
from gui import commands
from gui.palette import BLOCK_MIME, PaletteWidget, block_mime


def _drop(window, mime: QMimeData, where: QPoint) -> None:  # type: ignore[no-untyped-def]
    """Deliver a drag-enter, drag-move and drop of ``mime`` at viewport point ``where``."""
    viewport = window.canvas.viewport()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(where, actions, mime, buttons, mods),
                  QDragMoveEvent(where, actions, mime, buttons, mods),
                  QDropEvent(QPointF(where), actions, mime, buttons, mods)):
        QApplication.sendEvent(viewport, event)


def test_palette_mime_carries_the_type_id(qtbot) -> None:  # type: ignore[no-untyped-def]
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.tree.mimeData([palette.item_for("conv2d")])
    assert bytes(mime.data(BLOCK_MIME)).decode() == "conv2d"


def test_palette_drag_is_a_copy_of_the_type_id(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gui.palette as palette_module

    started = []

    class FakeDrag:
        def __init__(self, source) -> None:  # type: ignore[no-untyped-def]
            self.source = source

        def setMimeData(self, mime) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
            self.mime = mime

        def setPixmap(self, pixmap) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
            self.pixmap = pixmap

        def setHotSpot(self, _point) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
            pass

        def exec(self, actions, default):  # type: ignore[no-untyped-def]
            started.append((bytes(self.mime.data(BLOCK_MIME)).decode(), actions, default))
            return default

    monkeypatch.setattr(palette_module, "QDrag", FakeDrag)
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    count = len(palette.items())
    palette.tree.setCurrentItem(palette.item_for("batchnorm2d"))
    palette.tree.startDrag(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction)
    assert started == [("batchnorm2d", Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)]
    assert len(palette.items()) == count  # nothing is removed from the palette


def test_palette_search_filters_by_label_and_help(qtbot) -> None:  # type: ignore[no-untyped-def]
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    palette.search.setText("pool")
    assert {"maxpool2d", "avgpool2d", "global_avgpool"} <= set(palette.visible_type_ids())
    assert "conv2d" not in palette.visible_type_ids()
    palette.search.setText("")
    assert len(palette.visible_type_ids()) == len(palette.items())


def test_drop_from_palette_adds_the_block_to_the_graph(window) -> None:  # type: ignore[no-untyped-def]
    graph = window.document.graph
    before = set(graph.ids())
    _drop(window, block_mime("dropout"), window.canvas.viewport().rect().center())
    added = set(graph.ids()) - before
    assert len(added) == 1
    assert graph.block(added.pop()).type == "dropout"
    window.document.undo_stack.undo()
    assert set(graph.ids()) == before


def test_palette_double_click_adds_at_view_centre(window) -> None:  # type: ignore[no-untyped-def]
    before = len(window.document.graph)
    window.block_palette.block_activated.emit("gelu")
    assert len(window.document.graph) == before + 1
    assert window.document.undo_stack.count() == 1


def test_inspector_edit_pushes_one_set_param(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["layer1_0_conv1"])
    assert window.inspector.block_id == "layer1_0_conv1"
    spin = window.inspector.editors["out_channels"].widget
    assert isinstance(spin, QSpinBox)
    assert spin.minimum() == 1 and spin.value() == 16
    spin.setValue(24)
    assert doc.graph.block("layer1_0_conv1").params["out_channels"] == 24
    assert doc.undo_stack.count() == 1
    assert "out_channels" in doc.undo_stack.undoText()
    doc.report()
    assert "Output</b>: 24×32×32" in window.inspector.shapes.text()


def test_inspector_bool_and_same_padding(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["conv1"])
    bias = window.inspector.editors["bias"].widget
    assert isinstance(bias, QCheckBox)
    bias.setChecked(True)
    assert doc.graph.block("conv1").params["bias"] is True
    padding = window.inspector.editors["padding"].widget
    padding.setValue(padding.minimum())  # the special value shows "same"
    assert padding.text() == "same"
    assert doc.graph.block("conv1").params["padding"] == "same"
    assert doc.undo_stack.count() == 2


def test_inspector_rename_validates_the_id(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["fc"])
    edit = window.inspector.id_edit
    for bad in ("2fc", "class", "conv1"):
        edit.setText(bad)
        edit.editingFinished.emit()
        assert "fc" in doc.graph and bad not in doc.graph.ids() or bad == "conv1"
        assert window.inspector.error.text()
    assert doc.undo_stack.count() == 0
    edit.setText("classifier")
    edit.editingFinished.emit()
    assert "classifier" in doc.graph and "fc" not in doc.graph
    assert window.inspector.block_id == "classifier"
    assert not window.inspector.error.text()


def test_diagnostics_click_selects_and_centres_the_block(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "layer1_0_conv2", "out_channels", 40))
    doc.report()
    rows = window.diagnostics.rows()
    assert rows, "a width mismatch must be listed"
    block_id = rows[0][0]
    item = window.diagnostics.topLevelItem(0)
    window.diagnostics.itemClicked.emit(item, 2)
    assert window.canvas.selected_block_ids() == [block_id]
    assert window.inspector.block_id == block_id


def test_status_bar_counts_blocks_and_errors(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.report()
    assert f"{len(doc.graph)} blocks" in window.totals.text()
    assert "0 errors" in window.totals.text()
    doc.undo_stack.push(commands.Disconnect(doc, "output", 0))
    doc.report()
    assert "0 errors" not in window.totals.text()


def _edit_script(window, monkeypatch):  # type: ignore[no-untyped-def]
    """One user action of every kind, each through the window or canvas API."""
    doc, canvas = window.document, window.canvas
    yield "add", lambda: canvas.add_block_at_center("dropout")
    yield "remove", lambda: (canvas.select_blocks(["layer3_2_relu2"]), canvas.delete_selection())
    yield "connect", lambda: doc.undo_stack.push(commands.Connect(doc, "layer3_1_relu2", "avgpool", 0))
    yield "disconnect", lambda: doc.undo_stack.push(commands.Disconnect(doc, "fc", 0))
    yield "set param", lambda: doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 100))
    yield "move", lambda: doc.undo_stack.push(commands.Move(doc, {"fc": (5.0, 7.0), "flatten": (1.0, 2.0)}))
    yield "rename", lambda: doc.undo_stack.push(commands.Rename(doc, "conv1", "stem"))

    def group() -> None:
        monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("head", True)))
        canvas.select_blocks(["avgpool", "flatten"])
        window.group_selection()

    yield "group", group


def test_undo_restores_and_redo_reapplies_every_action(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    undo, redo = window.actions_by_name["undo"], window.actions_by_name["redo"]
    for name, act in _edit_script(window, monkeypatch):
        before = doc.graph.signature()
        count = doc.undo_stack.count()
        act()
        assert doc.undo_stack.count() == count + 1, f"{name} must be one undo step"
        after = doc.graph.signature()
        assert after != before, name
        assert undo.isEnabled() and undo.text().startswith("&Undo") or undo.text().startswith("Undo")
        undo.trigger()
        assert doc.graph.signature() == before, f"undo of {name}"
        redo.trigger()
        assert doc.graph.signature() == after, f"redo of {name}"
    assert doc.graph.block("avgpool").group == "head"
    assert "stem" in doc.graph


def test_undo_action_is_named_after_the_command(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    doc.undo_stack.push(commands.Rename(doc, "fc", "classifier"))
    assert "Rename fc → classifier" in window.actions_by_name["undo"].text()


def test_new_graph_is_empty_and_untitled(window, boxes) -> None:  # type: ignore[no-untyped-def]
    window.actions_by_name["new"].trigger()
    assert len(window.document.graph) == 0
    assert window.document.path is None
    assert boxes.calls == []  # nothing was modified: no prompt
    assert isinstance(window.document.graph, Graph)


def test_export_actions_follow_the_export_module(window) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    available = importlib.util.find_spec("gui.export_dialogs") is not None
    for name in ("export_code", "export_onnx", "export_weights", "import_module"):
        assert window.actions_by_name[name].isEnabled() == available


def test_summary_rows_follow_validation_and_click_selects(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.summary_dock.show()
    window.summary_dock.raise_()
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 100))
    doc.report()
    qtbot.waitUntil(lambda: window.summary.cell_text(len(doc.report().order) - 1, 2) == "100")
    row = next(i for i in range(window.summary.table.rowCount()) if window.summary.cell_text(i, 0) == "fc")
    table = window.summary
    table.scrollTo(table.table.index(row, 0))
    cell = table.visualRect(table.table.index(row, 1))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     cell.center())
    assert window.canvas.selected_block_ids() == ["fc"]
    assert window.diagnostics_dock.windowTitle() == "Diagnostics"


def test_keyboard_delete_and_undo_act_once(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.activateWindow()
    window.canvas.setFocus()
    window.canvas.select_blocks(["fc"])
    before = doc.graph.signature()
    qtbot.keyClick(window.canvas.viewport(), Qt.Key.Key_Delete)
    assert "fc" not in doc.graph and doc.undo_stack.count() == 1
    qtbot.keyClick(window.canvas.viewport(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.graph.signature() == before and doc.undo_stack.index() == 0
    qtbot.keyClick(window.canvas.viewport(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "fc" not in doc.graph


def test_inspector_shows_counts_from_the_summary(window) -> None:  # type: ignore[no-untyped-def]
    from gui.summary_view import compute

    doc = window.document
    window.canvas.select_blocks(["conv1"])
    result = compute(doc.graph.copy(), window.summary_service.current_version())
    window.summary_service._on_finished(result)
    assert "Parameters</b>: 432" in window.inspector.shapes.text()  # 3·16·3·3, no bias
    doc.undo_stack.push(commands.SetParam(doc, "conv1", "out_channels", 8))
    doc.report()
    assert "Parameters" not in window.inspector.shapes.text()  # stale numbers are not shown


def test_delete_key_in_the_inspector_edits_text_not_the_graph(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.activateWindow()
    window.canvas.select_blocks(["fc"])
    edit = window.inspector.id_edit
    edit.setFocus()
    edit.setCursorPosition(0)
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    assert "fc" in doc.graph and doc.undo_stack.count() == 0
    assert edit.text() == "c"
    qtbot.keyClick(edit, Qt.Key.Key_F)  # F is "fit" on the canvas, a letter here
    assert edit.text() == "fc"


def test_quick_spin_steps_are_one_undo_step(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["conv1"])
    spin = window.inspector.editors["out_channels"].widget
    before = doc.graph.signature()
    for _ in range(3):
        spin.stepUp()
    assert doc.graph.block("conv1").params["out_channels"] == 19
    assert doc.undo_stack.count() == 1 and "= 19" in doc.undo_stack.undoText()
    doc.undo_stack.undo()
    assert doc.graph.signature() == before and spin.value() == 16
    doc.undo_stack.redo()
    assert doc.graph.block("conv1").params["out_channels"] == 19
    window.inspector.editors["bias"].widget.setChecked(True)  # another parameter: its own step
    assert doc.undo_stack.count() == 2


def test_spin_steps_back_to_the_start_leave_no_step(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["conv1"])
    spin = window.inspector.editors["out_channels"].widget
    spin.stepUp()
    spin.stepDown()
    assert doc.graph.block("conv1").params["out_channels"] == 16
    assert doc.undo_stack.count() == 0 and not doc.modified
