"""Canvas tests: wiring by mouse, refusals, drops, edits, moves, navigation (pytest-qt, offscreen).

The helpers at the top are shared with test_canvas_groups.py and test_fixits.py.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.geometry import Geometry, clashes
from builder.graph import Graph, Wire
from builder.layout import layout
from gui import commands
from gui.canvas.items import BLOCK_H, BLOCK_W, ERROR_COLOR
from gui.canvas.view import BLOCK_MIME, GRID, OK_COLOR, CanvasView
from gui.canvas.wiring import PortRef, plan_wire
from gui.document import Document

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


def small_graph() -> Graph:
    """input → relu → output, plus a loose sigmoid and an add (for wiring tests)."""
    g = Graph("small")
    g.add_block("input", {"channels": 3, "height": 8, "width": 8}, (0, 0), "input")
    g.add_block("relu", pos=(240, 0), block_id="relu")
    g.add_block("sigmoid", pos=(240, 160), block_id="sig")
    g.add_block("add", pos=(480, 0), block_id="add")
    g.add_block("output", pos=(720, 0), block_id="output")
    g.connect("input", "relu", 0)
    g.connect("relu", "add", 0)
    g.connect("add", "output", 0)
    return g


def make_view(qtbot, graph: Graph) -> CanvasView:  # type: ignore[no-untyped-def]
    doc = Document(graph)
    view = CanvasView(doc)
    doc.setParent(view)  # both go at teardown: no late signals from a half-collected document
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.resetTransform()
    view.centerOn(view.graph_scene.itemsBoundingRect().center())
    doc.report()
    return view


def out_port(view: CanvasView, block_id: str) -> QPoint:
    return view.mapFromScene(view.graph_scene.blocks[block_id].output_port_pos())


def in_port(view: CanvasView, block_id: str, port: int = 0) -> QPoint:
    return view.mapFromScene(view.graph_scene.blocks[block_id].input_port_pos(port))


def block_center(view: CanvasView, block_id: str) -> QPoint:
    return view.mapFromScene(view.graph_scene.blocks[block_id].sceneBoundingRect().center())


def drag(view: CanvasView, start: QPoint, end: QPoint, steps: int = 4) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release there (left button)."""
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, start)
    for i in range(1, steps + 1):
        p = QPointF(start) + (QPointF(end) - QPointF(start)) * (i / steps)
        QTest.mouseMove(viewport, p.toPoint())
    QTest.mouseRelease(viewport, LEFT, NO_MOD, end)


def messages(view: CanvasView) -> list[str]:
    seen: list[str] = []
    view.status_message.connect(seen.append)
    return seen


# ---------------------------------------------------------------------------- scene mirrors graph


def test_scene_has_an_item_per_block_and_wire_with_shapes(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    canvas = view.graph_scene
    assert set(canvas.blocks) == set(resnet20.ids())
    assert set(canvas.wires) == {(w.target, w.port) for w in resnet20.wires()}
    assert canvas.wires[("layer1_0_conv1", 0)].label == "16×32×32"
    assert canvas.wires[("layer2_0_add", 1)].label == "32×16×16"
    assert canvas.wires[("layer1_0_add", 1)].skip  # the identity shortcut is drawn as a skip
    assert not canvas.wires[("layer1_0_add", 0)].skip
    assert {"layer1", "layer1.0", "layer3.2"} <= set(canvas.frames)


def test_add_shows_one_free_port_more_than_wired(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    add = view.graph_scene.blocks["add"]
    assert add.n_inputs == 2  # one wired, at least two
    view.doc.undo_stack.push(commands.Connect(view.doc, "sig", "add", 1))
    assert add.n_inputs == 3
    view.doc.undo_stack.undo()
    assert add.n_inputs == 2


# ---------------------------------------------------------------------------- wires by mouse


def test_dragging_output_to_input_creates_the_wire(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    seen = messages(view)
    drag(view, out_port(view, "relu"), in_port(view, "sig"))
    assert view.doc.graph.inputs_of("sig") == {0: "relu"}
    assert ("sig", 0) in view.graph_scene.wires
    assert not view.wire_in_progress()
    assert view.doc.undo_stack.count() == 1
    assert seen and "Connected relu" in seen[-1]


def test_dragging_input_to_output_also_wires(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    drag(view, in_port(view, "add", 1), out_port(view, "sig"))
    assert view.doc.graph.inputs_of("add") == {0: "relu", 1: "sig"}


def test_wire_follows_the_mouse_and_dropping_on_empty_space_cancels(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    before = view.doc.graph.signature()
    seen = messages(view)
    start = out_port(view, "sig")
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, start)
    QTest.mouseMove(viewport, start + QPoint(60, 80))
    assert view.wire_in_progress()
    temp = view._wire_drag.temp  # type: ignore[union-attr]
    end = temp.path().currentPosition()
    assert abs(end.x() - view.mapToScene(start + QPoint(60, 80)).x()) < 2
    QTest.mouseRelease(viewport, LEFT, NO_MOD, start + QPoint(60, 80))
    assert not view.wire_in_progress()
    assert temp.scene() is None
    assert view.doc.graph.signature() == before
    assert "cancelled" in seen[-1]


@pytest.mark.parametrize(("start", "end", "reason"), [
    (("out", "relu"), ("in", "relu", 0), "cannot feed itself"),
    (("out", "sig"), ("in", "add", 0), "already wired from 'relu'"),
    (("out", "add"), ("in", "relu", 0), "already wired"),
    (("in", "sig", 0), ("in", "add", 1), "both ends are inputs"),
    (("out", "sig"), ("out", "relu"), "both ends are outputs"),
])
def test_invalid_wires_are_refused_with_a_reason(qtbot, start, end, reason) -> None:
    view = make_view(qtbot, small_graph())
    before = view.doc.graph.signature()
    seen = messages(view)

    def where(spec):  # type: ignore[no-untyped-def]
        return out_port(view, spec[1]) if spec[0] == "out" else in_port(view, spec[1], spec[2])

    drag(view, where(start), where(end))
    assert view.doc.graph.signature() == before
    assert view.doc.undo_stack.count() == 0
    assert seen and seen[-1].startswith("Wire refused") and reason in seen[-1]


def test_a_wire_that_would_make_a_cycle_is_refused(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    view.doc.undo_stack.push(commands.Disconnect(view.doc, "relu", 0))
    seen = messages(view)
    drag(view, out_port(view, "add"), in_port(view, "relu"))
    assert "relu" not in view.doc.graph.inputs_of("relu").values()
    assert view.doc.graph.inputs_of("relu") == {}
    assert "cycle" in seen[-1]


def test_plan_wire_rules_without_a_mouse() -> None:
    g = small_graph()
    assert plan_wire(g, PortRef("sig", "out"), PortRef("add", "in", 1)) == Wire("sig", "add", 1)
    g.connect("relu", "sig", 0)
    g.disconnect("relu", 0)
    assert "cycle" in str(plan_wire(g, PortRef("sig", "out"), PortRef("relu", "in", 0)))


# ---------------------------------------------------------------------------- drops and adds


def overlaps(view: CanvasView) -> list[tuple[str, str]]:
    """Pairs of visible blocks whose boxes overlap."""
    items = [(b, i.mapRectToScene(i.shape().boundingRect())) for b, i in view.graph_scene.blocks.items()
             if i.isVisible()]
    return [(a, b) for n, (a, ra) in enumerate(items) for b, rb in items[n + 1:] if ra.intersects(rb)]


def drop_block(view: CanvasView, type_id: str, point: QPointF) -> None:
    mime = QMimeData()
    mime.setData(BLOCK_MIME, type_id.encode())
    viewport = view.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, LEFT,
                                                     NO_MOD))
    QApplication.sendEvent(viewport, QDropEvent(point, Qt.DropAction.CopyAction, mime, LEFT, NO_MOD))


def test_a_block_dropped_onto_another_slides_to_a_free_spot(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    drop_block(view, "tanh", QPointF(block_center(view, "sig")))
    new = next(b for b in view.doc.graph.blocks() if b.type == "tanh")
    assert new.pos[0] == 240.0 and new.pos[1] > 160.0 and overlaps(view) == []


def test_dropping_block_mime_adds_the_block_at_the_drop_point(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    mime = QMimeData()
    mime.setData(BLOCK_MIME, b"conv2d")
    point = QPointF(view.mapFromScene(QPointF(600, 330)))  # free space
    viewport = view.viewport()
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, LEFT, NO_MOD)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, LEFT, NO_MOD)
    QApplication.sendEvent(viewport, drop)
    new = [b for b in view.doc.graph.blocks() if b.type == "conv2d"]
    assert len(new) == 1 and new[0].id in view.graph_scene.blocks
    scene = view.mapToScene(point.toPoint())
    x, y = new[0].pos
    assert x % GRID == 0 and y % GRID == 0
    assert abs(x + BLOCK_W / 2 - scene.x()) <= GRID and abs(y + BLOCK_H / 2 - scene.y()) <= GRID
    assert view.selected_block_ids() == [new[0].id]
    view.doc.undo_stack.undo()
    assert new[0].id not in view.doc.graph and new[0].id not in view.graph_scene.blocks


def test_add_block_at_center_is_one_undo_step(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    view.add_block_at_center("maxpool2d")
    assert view.doc.undo_stack.count() == 1
    assert any(b.type == "maxpool2d" for b in view.doc.graph.blocks())


# ---------------------------------------------------------------------------- edits


def test_delete_blocks_and_wires_is_one_step_and_undo_restores(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    before = resnet20.signature()
    view.select_blocks(["layer1_0_conv1", "layer1_0_bn1"])
    view.graph_scene.wires[("layer2_0_add", 1)].setSelected(True)
    view.delete_selection()
    g = view.doc.graph
    assert "layer1_0_conv1" not in g and "layer1_0_bn1" not in g
    assert 1 not in g.inputs_of("layer2_0_add")
    assert "layer1_0_conv1" not in view.graph_scene.blocks
    assert ("layer2_0_add", 1) not in view.graph_scene.wires
    assert view.doc.undo_stack.count() == 1
    view.doc.undo_stack.undo()
    assert g.signature() == before
    assert set(view.graph_scene.wires) == {(w.target, w.port) for w in g.wires()}
    view.doc.undo_stack.redo()
    assert "layer1_0_bn1" not in g


def test_delete_key_deletes_selection(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    view.select_blocks(["sig"])
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert "sig" not in view.doc.graph


def test_copy_paste_and_duplicate_use_fresh_ids(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    g = view.doc.graph
    view.select_blocks(["relu", "add"])
    view.copy_selection()
    view.paste()
    assert set(view.selected_block_ids()) == {"relu_copy1", "add_copy1"}
    assert g.inputs_of("add_copy1") == {0: "relu_copy1"}  # the inner wire comes along
    x, y = g.block("relu_copy1").pos  # the nearest free spot to one step right and down
    assert (x - 240.0) ** 2 + (y - 0.0) ** 2 <= 400.0 ** 2
    assert g.block("add_copy1").pos == (x + 240.0, y)  # the copies keep their arrangement
    assert clashes(Geometry(g)) == []
    view.paste()
    assert {"relu_copy2", "add_copy2"} <= set(g.ids())
    assert g.block("relu_copy2").pos != g.block("relu_copy1").pos
    assert clashes(Geometry(g)) == []
    view.select_blocks(["sig"])
    view.duplicate_selection()
    assert view.selected_block_ids() == ["sig_copy1"]
    assert overlaps(view) == []
    count = len(g)
    view.doc.undo_stack.undo()  # one step per paste/duplicate
    assert len(g) == count - 1
    view.doc.undo_stack.undo()
    assert "relu_copy2" not in g and "add_copy2" not in g


@pytest.mark.parametrize("payload", [
    b'{"blocks": [{"id": 3}]}',
    b'{"blocks": [{"id": "a", "type": "nope", "params": {}, "pos": [0, 0]}]}',
    b'{"blocks": [{"id": "a", "type": "relu", "params": {"x": 1}, "pos": [0, 0]}]}',
    b'{"blocks": [{"id": "a", "type": "conv2d", "params": {"stride": "2"}, "pos": [0, 0]}]}',
    b'{"blocks": [{"id": "a", "type": "relu", "params": {}, "pos": [0, 0]}], "wires": [["a", "b", 0]]}',
    b'not json',
])
def test_paste_refuses_garbage_on_the_clipboard(qtbot, payload: bytes) -> None:
    view = make_view(qtbot, small_graph())
    mime = QMimeData()
    mime.setData("application/x-skipwire-blocks", payload)
    QApplication.clipboard().setMimeData(mime)
    seen = messages(view)
    before = view.doc.graph.signature()
    view.paste()
    assert view.doc.graph.signature() == before
    assert view.doc.undo_stack.count() == 0
    assert seen and seen[-1].startswith("Cannot paste")


def test_moving_several_blocks_by_mouse_is_one_snapped_undo_step(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    g = view.doc.graph
    before = g.signature()
    view.select_blocks(["relu", "sig"])
    start = block_center(view, "relu")
    drag(view, start, start + QPoint(47, 33), steps=6)
    assert view.doc.undo_stack.count() == 1
    assert g.block("relu").pos == (280.0, 40.0)  # 240+47 → 280, 0+33 → 40 on the 20-px grid
    assert g.block("sig").pos == (280.0, 200.0)
    assert view.graph_scene.blocks["relu"].pos() == QPointF(280, 40)
    wire = view.graph_scene.wires[("relu", 0)]
    assert wire.path().currentPosition() == view.graph_scene.blocks["relu"].input_port_pos(0)
    view.doc.undo_stack.undo()
    assert g.signature() == before
    assert view.graph_scene.blocks["sig"].pos() == QPointF(240, 160)


def test_rubber_band_selects_blocks(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    top_left = view.mapFromScene(QPointF(200, -40))
    bottom_right = view.mapFromScene(QPointF(420, 260))
    drag(view, top_left, bottom_right, steps=5)
    assert set(view.selected_block_ids()) == {"relu", "sig"}
    assert view.doc.undo_stack.count() == 0


def test_select_all_center_and_selection_signal(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    got: list[list[str]] = []
    view.selection_changed.connect(got.append)
    view.select_all()
    assert set(got[-1]) == set(resnet20.ids())
    view.center_on_block("layer3_2_add")
    assert got[-1] == ["layer3_2_add"]
    center = view.mapToScene(view.viewport().rect().center())
    assert view.graph_scene.blocks["layer3_2_add"].sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(center)


def test_wheel_zooms_around_the_cursor_and_fit_all_shows_everything(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    zoom = view.zoom()
    view.zoom_in()
    assert view.zoom() > zoom
    view.zoom_out()
    view.zoom_out()
    assert view.zoom() < zoom
    view.fit_all()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect())


def test_tidy_up_is_one_move_to_the_layout(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    view.tidy_up()
    assert view.doc.undo_stack.count() == 1
    assert {b.id: b.pos for b in view.doc.graph.blocks()} == layout(view.doc.graph)


def test_param_rename_and_validation_update_items(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    doc = view.doc
    doc.undo_stack.push(commands.Rename(doc, "relu", "act"))
    assert "act" in view.graph_scene.blocks and ("act", 0) in view.graph_scene.wires
    assert view.graph_scene.wires[("add", 0)].source == "act"
    assert view.graph_scene.wires[("add", 0)].toolTip().startswith("wire act → add (input 0)")
    doc.undo_stack.push(commands.SetParam(doc, "input", "channels", 5))
    doc.report()
    assert view.graph_scene.wires[("act", 0)].label == "5×8×8"
    assert view.graph_scene.blocks["add"].severity == "error"  # one input is missing
    assert "input 1 of Add" in view.graph_scene.blocks["add"].toolTip()


def test_wheel_keeps_the_point_under_the_cursor(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    where = QPointF(250, 180)
    fixed = view.mapToScene(where.toPoint())
    zoom = view.zoom()
    wheel = QWheelEvent(where, view.viewport().mapToGlobal(where), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, NO_MOD, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() == pytest.approx(zoom * 1.15 ** 2)
    after = view.mapToScene(where.toPoint())
    assert abs(after.x() - fixed.x()) < 2 and abs(after.y() - fixed.y()) < 2


def test_middle_drag_and_space_drag_pan_without_editing(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    before = resnet20.signature()
    viewport = view.viewport()
    start = block_center(view, "layer1_0_bn1")  # on a block: still a pan, not a move
    h, v = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, NO_MOD, start)
    QTest.mouseMove(viewport, start + QPoint(-80, -50))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, NO_MOD, start + QPoint(-80, -50))
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (h + 80, v + 50)
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view, start, start + QPoint(40, 30))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (h + 40, v + 20)
    assert resnet20.signature() == before and view.doc.undo_stack.count() == 0
    assert view.selected_block_ids() == []


def test_wire_being_drawn_turns_red_over_a_refusing_port(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, out_port(view, "sig"))
    QTest.mouseMove(viewport, in_port(view, "add", 0))  # taken by relu
    temp = view._wire_drag.temp  # type: ignore[union-attr]
    assert temp.pen().color() == ERROR_COLOR
    QTest.mouseMove(viewport, in_port(view, "add", 1))
    assert temp.pen().color() == OK_COLOR
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert not view.wire_in_progress() and view.doc.undo_stack.count() == 0
    QTest.mouseRelease(viewport, LEFT, NO_MOD, in_port(view, "add", 1))


def _assert_mirrors(view: CanvasView) -> None:
    QApplication.processEvents()  # coalesced updates (validation, collapse shifts) run here
    g, canvas = view.doc.graph, view.graph_scene
    assert set(canvas.blocks) == set(g.ids())
    assert set(canvas.wires) == {(w.target, w.port) for w in g.wires()}
    for w in g.wires():
        assert canvas.wires[(w.target, w.port)].source == w.source
    for block_id, item in canvas.blocks.items():
        assert item.pos() == canvas.view_pos(block_id)
        assert item.block_id == block_id
    for (target, port), wire in canvas.wires.items():
        if wire.isVisible():
            path = wire.path()
            assert path.elementAt(0).x == canvas.endpoint(wire.source).output_port_pos().x()
            assert path.elementAt(0).y == canvas.endpoint(wire.source).output_port_pos().y()
            assert path.currentPosition() == canvas.endpoint(target).input_port_pos(port)
            before = [path.elementAt(i) for i in range(path.elementCount())]
            canvas._place_wire(wire)  # placing it again from scratch changes nothing
            again = wire.path()
            assert [(e.x, e.y) for e in before] == [(again.elementAt(i).x, again.elementAt(i).y)
                                                   for i in range(again.elementCount())]
    for group, frame in canvas.frames.items():
        for block_id in canvas.members(group):
            item = canvas.blocks[block_id]
            assert frame.expanded_rect().contains(item.mapRectToScene(item.shape().boundingRect()))
    assert set(canvas.frames) == canvas.group_paths()


@pytest.mark.parametrize("seed", [7, 11])
def test_random_edits_undo_and_redo_keep_the_scene_in_step(qtbot, seed: int) -> None:
    import random

    rng = random.Random(seed)
    view = make_view(qtbot, small_graph())
    doc, g = view.doc, view.doc.graph
    start = g.signature()
    for _ in range(150):
        ids = g.ids()
        op = rng.choice(["add", "remove", "connect", "disconnect", "move", "rename", "group", "undo",
                         "redo", "collapse", "paste", "tidy", "delete"])
        a = rng.choice(ids) if ids else None
        b = rng.choice(ids) if ids else None
        if op == "add":
            doc.undo_stack.push(commands.AddBlock(doc, rng.choice(["relu", "add", "conv2d"]),
                                                  (rng.randrange(0, 800, 20), rng.randrange(0, 600, 20))))
        elif op == "remove" and a:
            doc.undo_stack.push(commands.RemoveBlock(doc, a))
        elif op == "connect" and a and b:
            result = plan_wire(g, PortRef(a, "out"), PortRef(b, "in", rng.randrange(0, 3)))
            if isinstance(result, Wire):
                doc.undo_stack.push(commands.Connect(doc, result.source, result.target, result.port))
        elif op == "disconnect" and a and g.inputs_of(a):
            doc.undo_stack.push(commands.Disconnect(doc, a, rng.choice(list(g.inputs_of(a)))))
        elif op == "move" and a:
            spot = (rng.randrange(0, 800, 20), rng.randrange(0, 600, 20))
            doc.undo_stack.push(commands.Move(doc, {a: spot}))
        elif op == "rename" and a:
            doc.undo_stack.push(commands.Rename(doc, a, g.fresh_id("r")))
        elif op == "group" and a:
            doc.undo_stack.push(commands.SetGroup(doc, [a], rng.choice(["", "s1", "s1.b", "s2"])))
        elif op == "undo":
            doc.undo_stack.undo()
        elif op == "redo":
            doc.undo_stack.redo()
        elif op == "collapse" and view.graph_scene.frames:
            group = rng.choice(sorted(view.graph_scene.frames))
            view.set_group_collapsed(group, group not in view.graph_scene.collapsed)
        elif op == "paste" and a:
            view.select_blocks([a])
            view.duplicate_selection()
        elif op == "tidy":
            view.tidy_up()
        elif op == "delete" and a:
            view.select_blocks([a])
            for wire in list(view.graph_scene.wires.values())[:2]:
                wire.setSelected(wire.isVisible())
            view.delete_selection()
        _assert_mirrors(view)
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert g.signature() == start
    _assert_mirrors(view)


def test_hovering_a_port_shows_a_cross_cursor_and_wires_have_tooltips(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    QTest.mouseMove(view.viewport(), out_port(view, "relu"))
    assert view.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    QTest.mouseMove(view.viewport(), block_center(view, "relu"))
    assert view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor
    assert view.graph_scene.wires[("relu", 0)].toolTip() == "wire input → relu (input 0): 3×8×8"


def test_clicking_a_wire_selects_it_and_delete_removes_only_the_wire(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    wire = view.graph_scene.wires[("add", 0)]
    where = view.mapFromScene(wire.path().pointAtPercent(0.3))
    QTest.mouseClick(view.viewport(), LEFT, NO_MOD, where)
    assert wire.isSelected() and view.selected_block_ids() == []
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    g = view.doc.graph
    assert g.inputs_of("add") == {} and {"relu", "add"} <= set(g.ids())
    assert view.doc.undo_stack.undoText().startswith("Delete 1 wire")
    view.doc.undo_stack.undo()
    assert g.inputs_of("add") == {0: "relu"}


def test_dragging_a_wired_input_picks_the_wire_up_and_reroutes_it(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    g = view.doc.graph
    before = g.signature()
    seen = messages(view)
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NO_MOD, in_port(view, "add", 0))
    QTest.mouseMove(viewport, in_port(view, "add", 0) + QPoint(-40, 60))
    assert not view.graph_scene.wires[("add", 0)].isVisible()  # the wire is in the hand
    QTest.mouseMove(viewport, in_port(view, "sig"))
    QTest.mouseRelease(viewport, LEFT, NO_MOD, in_port(view, "sig"))
    assert g.inputs_of("sig") == {0: "relu"} and g.inputs_of("add") == {}
    assert view.doc.undo_stack.count() == 1 and "Moved the wire" in seen[-1]
    view.doc.undo_stack.undo()
    assert g.signature() == before
    drag(view, in_port(view, "add", 0), in_port(view, "add", 0) + QPoint(-70, 90))  # drop on nothing
    assert g.signature() == before and view.graph_scene.wires[("add", 0)].isVisible()
    assert seen[-1] == "Wire left as it was"
