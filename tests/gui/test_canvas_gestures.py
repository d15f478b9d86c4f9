"""Gestures agree with the help: the ▾ collapses, Ctrl+F finds, a refused wire says why at the cursor.

Mouse and key events go to the view's viewport (or the finder's line edit) as a person's
would; menu items are reached through the real menu bar; ``sys.excepthook`` is captured.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.graph import Graph
from gui.canvas.finder import matches
from gui.canvas.view import GESTURES
from tests.gui.excepthook import hook  # noqa: F401  (autouse: no exception may escape a slot)
from tests.gui.test_canvas import in_port, make_view, out_port, small_graph

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier
NO_BUTTONS = Qt.MouseButton.NoButton




def menu_action(window: Any, menu_text: str, action_text: str) -> Any:
    """The action found through the real menu bar by its visible text."""
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu_text:
            for action in top.menu().actions():
                if action.text().replace("&", "") == action_text:
                    return action
    raise AssertionError(f"no {menu_text} → {action_text}")


def toggle_point(view: Any, group: str) -> QPoint:
    frame = view.graph_scene.frames[group]
    view.centerOn(frame.toggle_rect().center())
    return view.mapFromScene(frame.toggle_rect().center())


def test_clicking_the_triangle_collapses_and_the_other_triangle_expands(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    frame = view.graph_scene.frames["layer1.0"]
    QTest.mouseClick(view.viewport(), LEFT, NO_MOD, toggle_point(view, "layer1.0"))
    assert frame.collapsed and not view.graph_scene.blocks["layer1_0_conv1"].isVisible()
    assert view.selected_block_ids() == []  # the ▾ collapses; it does not select
    assert view.doc.undo_stack.count() == 0 and resnet20.signature() == view.doc.graph.signature()
    QTest.mouseClick(view.viewport(), LEFT, NO_MOD, toggle_point(view, "layer1.0"))
    assert not frame.collapsed and view.graph_scene.blocks["layer1_0_conv1"].isVisible()


def test_a_double_click_on_the_triangle_collapses_once(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    where, viewport = toggle_point(view, "layer2.0"), view.viewport()
    # what Qt delivers for a double-click: press, release, press and double-click, release (ms apart)
    kinds = [QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonPress,
             QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease]
    for stamp, kind in enumerate(kinds):
        held = NO_BUTTONS if kind == QEvent.Type.MouseButtonRelease else LEFT
        event = QMouseEvent(kind, QPointF(where), QPointF(viewport.mapToGlobal(where)), LEFT, held, NO_MOD)
        event.setTimestamp(10_000 + 40 * stamp)
        QApplication.sendEvent(viewport, event)
    assert view.graph_scene.frames["layer2.0"].collapsed


def test_pressing_a_frame_name_beside_the_triangle_still_selects(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    frame = view.graph_scene.frames["layer1.0"]
    spot = frame.label_rect().center()
    view.centerOn(spot)
    where = view.mapFromScene(spot)
    QTest.mouseClick(view.viewport(), LEFT, NO_MOD, where)
    assert not frame.collapsed
    assert set(view.selected_block_ids()) == set(view.graph_scene.members("layer1.0"))


def test_left_drag_on_the_background_is_a_rubber_band_not_a_pan(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    h, v = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    top_left = view.mapFromScene(QPointF(-60, -60))
    bottom_right = view.mapFromScene(QPointF(440, 100))
    QTest.mousePress(view.viewport(), LEFT, NO_MOD, top_left)
    for i in range(1, 6):
        QTest.mouseMove(view.viewport(), top_left + (bottom_right - top_left) * i / 5)
    QTest.mouseRelease(view.viewport(), LEFT, NO_MOD, bottom_right)
    assert set(view.selected_block_ids()) == {"input", "relu"}
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (h, v)


def test_the_shortcut_help_lists_the_canvas_gestures(window: Any, boxes: Any) -> None:
    menu_action(window, "Help", "Keyboard Shortcuts").trigger()
    kind, _title, text = boxes.calls[-1]
    assert kind == "information"
    for gesture, how in GESTURES:
        assert html.escape(gesture) in text and html.escape(how) in text
    assert "drag the background" not in text  # the old, wrong help line


def test_matches_rank_whole_names_then_prefixes_then_the_rest() -> None:
    ids = ["layer1_0_bn1", "bn1", "bn10", "conv1"]
    assert matches(ids, "BN1") == ["bn1", "bn10", "layer1_0_bn1"]
    assert matches(ids, "  ") == [] and matches(ids, "xyz") == []


def test_ctrl_f_finds_as_you_type_and_enter_f3_escape_work(window: Any, qtbot: Any) -> None:
    view = window.canvas
    window.activateWindow()
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    finder = view.finder
    assert finder.isVisible() and finder.edit.hasFocus()
    QTest.keyClicks(finder.edit, "bn")
    first = matches(list(view.graph_scene.blocks), "bn")
    assert view.selected_block_ids() == [first[0]]
    QTest.keyClicks(finder.edit, "2")  # incremental: "bn2"
    found = matches(list(view.graph_scene.blocks), "bn2")
    assert view.selected_block_ids() == [found[0]] and finder.count.text() == f"1 of {len(found)}"
    center = view.mapToScene(view.viewport().rect().center())
    assert (view.graph_scene.blocks[found[0]].sceneBoundingRect().center() - center).manhattanLength() < 40
    QTest.keyClick(finder.edit, Qt.Key.Key_Return)
    assert view.selected_block_ids() == [found[1]]
    QTest.keyClick(finder.edit, Qt.Key.Key_F3)
    assert view.selected_block_ids() == [found[2]]
    QTest.keyClick(finder.edit, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_block_ids() == [found[1]]
    QTest.keyClicks(finder.edit, "zz")
    assert finder.count.text() == "no match"
    QTest.keyClick(finder.edit, Qt.Key.Key_Escape)
    assert not finder.isVisible()
    assert window.document.undo_stack.count() == 0  # typing F, Delete… in the bar edits nothing


def test_find_expands_a_collapsed_group_and_the_edit_menu_opens_it(window: Any) -> None:
    view = window.canvas
    view.set_group_collapsed("layer2", True)
    menu_action(window, "Edit", "Find Block…").trigger()
    assert view.finder.isVisible()
    QTest.keyClicks(view.finder.edit, "layer2_1_conv2")
    assert view.selected_block_ids() == ["layer2_1_conv2"]
    assert view.graph_scene.blocks["layer2_1_conv2"].isVisible()


def test_a_refused_wire_says_why_beside_the_cursor(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, out_port(view, "sig"))
    QTest.mouseMove(viewport, in_port(view, "add", 0) + QPoint(10, 0))
    QTest.mouseMove(viewport, in_port(view, "add", 0))  # taken by relu
    hint = view._wire_drag.hint  # type: ignore[union-attr]
    assert hint.isVisible() and hint.scene() is view.graph_scene
    assert "input 0 of 'add' is already wired from 'relu'" in hint.text
    assert (hint.pos() - view.mapToScene(in_port(view, "add", 0))).manhattanLength() < 2
    shown = hint.deviceTransform(view.viewportTransform()).mapRect(hint.boundingRect())
    assert shown.width() > 150  # drawn at screen size, readable at any zoom
    QTest.mouseMove(viewport, in_port(view, "add", 1))
    assert not hint.isVisible()
    QTest.mouseMove(viewport, in_port(view, "add", 0))
    QTest.mouseRelease(viewport, LEFT, NO_MOD, in_port(view, "add", 0))
    assert hint.scene() is None and view.doc.undo_stack.count() == 0


def test_a_refusal_hint_is_readable_when_zoomed_out(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    view.fit_all()
    assert view.zoom() < 0.5
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, out_port(view, "layer1_0_relu1"))
    QTest.mouseMove(viewport, in_port(view, "layer1_0_conv1") + QPoint(3, 3))
    QTest.mouseMove(viewport, in_port(view, "layer1_0_conv1"))
    hint = view._wire_drag.hint  # type: ignore[union-attr]
    assert hint.isVisible() and "already wired" in hint.text
    shown = hint.deviceTransform(view.viewportTransform()).mapRect(hint.boundingRect())
    assert shown.width() > 150  # the same size in pixels as at 100%
    QTest.mouseRelease(viewport, LEFT, NO_MOD, in_port(view, "layer1_0_conv1"))


def test_a_refusal_hint_at_the_canvas_edge_turns_to_stay_visible(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    port = view.graph_scene.blocks["add"].input_port_pos(0)
    view.centerOn(port + QPointF(view.viewport().width() / 2 - 40, 0))  # the port near the right edge
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, out_port(view, "sig"))
    QTest.mouseMove(viewport, in_port(view, "add", 0) + QPoint(-6, 0))
    QTest.mouseMove(viewport, in_port(view, "add", 0))
    hint = view._wire_drag.hint  # type: ignore[union-attr]
    assert hint.isVisible()
    shown = hint.deviceTransform(view.viewportTransform()).mapRect(hint.boundingRect())
    assert viewport.rect().contains(shown.toRect())
    QTest.mouseRelease(viewport, LEFT, NO_MOD, in_port(view, "add", 0))
