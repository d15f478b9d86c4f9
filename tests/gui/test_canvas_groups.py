"""Group frames on the canvas: nesting, collapse/expand as view state, group selection."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from builder.geometry import parents
from gui import commands
from gui.canvas.groups import GroupFrameItem
from tests.gui.test_canvas import drag, make_view, small_graph


def test_parents_of_a_group_path() -> None:
    assert parents("layer2.0") == ("layer2", "layer2.0")
    assert parents("") == ()


def test_frames_nest_and_enclose_their_blocks(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    frames = view.graph_scene.frames
    inner, outer = frames["layer2.0"].expanded_rect(), frames["layer2"].expanded_rect()
    assert outer.contains(inner)
    for block_id in view.graph_scene.members("layer2.0"):
        assert inner.contains(view.graph_scene.blocks[block_id].sceneBoundingRect())
    assert not inner.intersects(frames["layer2.1"].expanded_rect())
    assert not frames["layer1"].expanded_rect().intersects(outer)


def test_collapse_then_expand_leaves_the_graph_unchanged(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    canvas = view.graph_scene
    before = resnet20.signature()
    view.set_group_collapsed("layer2", True)
    frame = canvas.frames["layer2"]
    assert frame.collapsed and frame.isVisible()
    assert not canvas.frames["layer2.1"].isVisible()
    assert not canvas.blocks["layer2_0_conv1"].isVisible()
    assert canvas.blocks["layer3_0_conv1"].isVisible()
    assert frame.summary == "16×32×32 → 32×16×16"
    assert frame.count == 22  # three residual blocks of 7 and the ShortcutPad
    # wires from outside re-attach to the box; wires inside are hidden
    into = canvas.wires[("layer2_0_conv1", 0)]
    assert into.path().currentPosition() == frame.input_port_pos()
    out = canvas.wires[("layer3_0_conv1", 0)]
    assert out.path().elementAt(0).x == frame.output_port_pos().x()
    assert not canvas.wires[("layer2_0_bn1", 0)].isVisible()
    assert resnet20.signature() == before
    assert view.doc.undo_stack.count() == 0
    view.set_group_collapsed("layer2", False)
    assert canvas.blocks["layer2_0_conv1"].isVisible() and canvas.wires[("layer2_0_bn1", 0)].isVisible()
    assert into.path().currentPosition() == canvas.blocks["layer2_0_conv1"].input_port_pos(0)
    assert resnet20.signature() == before
    assert not view.doc.modified


def test_double_click_on_a_frame_label_toggles_it(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    frame = view.graph_scene.frames["layer1.0"]
    view.centerOn(frame.label_rect().center())
    where = view.mapFromScene(frame.label_rect().center())
    assert isinstance(view.itemAt(where), GroupFrameItem)
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    assert frame.collapsed
    where = view.mapFromScene(frame.box_rect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    assert not frame.collapsed


def test_center_on_a_hidden_block_expands_its_group(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    view.set_group_collapsed("layer3", True)
    view.center_on_block("layer3_1_bn2")
    assert not view.graph_scene.frames["layer3"].collapsed
    assert view.selected_block_ids() == ["layer3_1_bn2"]


def test_group_selection_is_one_undoable_step_with_a_frame(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    view.select_blocks(["relu", "add"])
    view.group_selection("stage1.block")
    g = view.doc.graph
    assert g.block("relu").group == "stage1.block" and g.block("add").group == "stage1.block"
    assert {"stage1", "stage1.block"} <= set(view.graph_scene.frames)
    view.set_group_collapsed("stage1", True)
    view.doc.undo_stack.undo()
    view.graph_scene.flush()  # frames are re-measured once per event-loop turn
    assert g.block("relu").group == "" and view.graph_scene.frames == {}
    assert view.graph_scene.blocks["relu"].isVisible()


def test_moving_a_block_resizes_its_frames(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    before = view.graph_scene.frames["layer1.0"].expanded_rect()
    pos = resnet20.block("layer1_0_relu2").pos
    view.doc.undo_stack.push(commands.Move(view.doc, {"layer1_0_relu2": (pos[0] + 400, pos[1])}))
    qtbot.wait(1)  # frames follow on the next turn of the event loop
    after = view.graph_scene.frames["layer1.0"].expanded_rect()
    assert after.right() == before.right() + 400
    assert view.graph_scene.frames["layer1"].expanded_rect().contains(after)


def test_undoing_a_delete_inside_a_collapsed_group_keeps_it_hidden(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    doc = view.doc
    doc.undo_stack.push(commands.RemoveBlock(doc, "layer2_1_bn1"))
    view.set_group_collapsed("layer2", True)
    doc.undo_stack.undo()
    assert not view.graph_scene.blocks["layer2_1_bn1"].isVisible()
    assert not view.graph_scene.wires[("layer2_1_bn1", 0)].isVisible()
    view.set_group_collapsed("layer2", False)
    assert view.graph_scene.blocks["layer2_1_bn1"].isVisible()


def test_moving_a_block_below_a_collapsed_group_keeps_model_coordinates(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    before = resnet20.block("layer3_0_conv1").pos
    view.set_group_collapsed("layer2", True)
    item = view.graph_scene.blocks["layer3_0_conv1"]
    assert item.pos().y() < before[1]  # drawn higher while layer2 is collapsed
    view.select_blocks(["layer3_0_conv1"])
    view.centerOn(item)
    start = view.mapFromScene(item.sceneBoundingRect().center())
    drag(view, start, start + QPoint(0, 40))
    assert resnet20.block("layer3_0_conv1").pos == (before[0], before[1] + 40)
    view.set_group_collapsed("layer2", False)
    assert item.pos() == QPointF(before[0], before[1] + 40)


def test_dragging_a_frame_label_moves_its_blocks_as_one_step(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    frame = view.graph_scene.frames["layer1.1"]
    view.centerOn(frame.label_rect().center())
    members = view.graph_scene.members("layer1.1")
    before = {b: resnet20.block(b).pos for b in members}
    others = {b.id: b.pos for b in resnet20.blocks() if b.id not in members}
    start = view.mapFromScene(frame.label_rect().center())
    drag(view, start, start + QPoint(0, 38))
    assert set(view.selected_block_ids()) == set(members)
    assert view.doc.undo_stack.count() == 1
    assert {b: resnet20.block(b).pos for b in members} == {b: (x, y + 40) for b, (x, y) in before.items()}
    assert {b.id: b.pos for b in resnet20.blocks() if b.id not in members} == others
    view.doc.undo_stack.undo()
    assert {b: resnet20.block(b).pos for b in members} == before


def test_group_selection_refuses_a_bad_path_with_a_reason(qtbot) -> None:
    view = make_view(qtbot, small_graph())
    seen: list[str] = []
    view.status_message.connect(seen.append)
    view.select_blocks(["relu"])
    view.group_selection("2bad..path")
    assert view.doc.undo_stack.count() == 0 and "not a group path" in seen[-1]
    view.select_blocks([])
    view.group_selection("fine")
    assert view.doc.undo_stack.count() == 0 and "no blocks are selected" in seen[-1]
