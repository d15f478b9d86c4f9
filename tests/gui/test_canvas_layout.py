"""The canvas never misleads: frames hold exactly their blocks, wires go around, pastes land free.

Driven as a person does: key sequences on the canvas for Ctrl+C/V/G/L, mouse events on the
viewport; ``sys.excepthook`` is captured so no exception may escape a slot. The scene's
geometry (frames, wire routes) is compared with the Qt-free ``builder.geometry``.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog

from builder.geometry import Geometry, clashes, problems
from builder.graph import Graph
from builder.layout import BLOCK_W
from builder.routing import Obstacles, crossed
from tests.gui.conftest import GRAPHS
from tests.gui.excepthook import hook  # noqa: F401  (autouse: no exception may escape a slot)
from tests.gui.test_canvas import drop_block, make_view

CTRL = Qt.KeyboardModifier.ControlModifier




def keys(window: Any, key: Qt.Key, modifiers: Qt.KeyboardModifier = CTRL) -> None:
    window.activateWindow()
    window.canvas.setFocus()
    QTest.keyClick(window.canvas.viewport(), key, modifiers)


def scene_obstacles(view: Any) -> Obstacles:
    obstacles = Obstacles()
    for block_id, item in view.graph_scene.blocks.items():
        if item.isVisible():
            p = item.pos()
            obstacles.put(block_id, (p.x(), p.y(), p.x() + BLOCK_W, p.y() + item.height))
    return obstacles


def assert_scene_matches_geometry(view: Any) -> None:
    """Frames as drawn equal the Qt-free frames; no drawn wire passes through a foreign block."""
    view.graph_scene.flush()
    graph = view.doc.graph
    geo = Geometry(graph)
    frames = geo.frames()
    for group, frame in view.graph_scene.frames.items():
        r = frame.expanded_rect()
        assert (r.left(), r.top(), r.right(), r.bottom()) == pytest.approx(frames[group]), group
    obstacles = scene_obstacles(view)
    for wire in view.graph_scene.wires.values():
        ends = (wire.source, wire.target)
        assert crossed(wire.points, obstacles, ends) == set(), ends
    routes = {key: wire.points for key, wire in view.graph_scene.wires.items()}
    assert problems(graph, routes=routes) == []


def test_lenet_paste_group_and_tidy_up_keep_foreign_blocks_out_of_the_frame(
        window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    window.files.load(GRAPHS / "lenet.json")
    graph = window.document.graph
    window.canvas.select_blocks(["conv1", "relu1", "pool1"])
    keys(window, Qt.Key.Key_C)
    keys(window, Qt.Key.Key_V)
    pasted = sorted(window.canvas.selected_block_ids())
    assert pasted == ["conv1_copy1", "pool1_copy1", "relu1_copy1"]
    assert clashes(Geometry(graph)) == []  # landed on free space
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("stem.extra", True)))
    keys(window, Qt.Key.Key_G)
    assert {graph.block(b).group for b in pasted} == {"stem.extra"}
    keys(window, Qt.Key.Key_L)
    assert window.document.undo_stack.undoText() == "Tidy up"
    frame = window.canvas.graph_scene.frames["stem.extra"].expanded_rect()
    for own in ("conv1", "relu1", "pool1", "input"):
        assert not frame.intersects(window.canvas.graph_scene.blocks[own].sceneBoundingRect()), own
    assert problems(graph) == []
    assert_scene_matches_geometry(window.canvas)


@pytest.mark.parametrize("stem", ["resnet50", "googlenet", "wrn28_10"])
def test_tidy_up_on_a_zoo_graph_draws_exact_frames_and_wires_around_blocks(window: Any, stem: str) -> None:
    window.files.load(GRAPHS / f"{stem}.json")
    keys(window, Qt.Key.Key_L)
    graph = window.document.graph
    assert problems(graph) == []
    assert_scene_matches_geometry(window.canvas)
    if stem != "googlenet":
        shortcut = window.canvas.graph_scene.frames["layer1.0.shortcut"].expanded_rect()
        bn1 = window.canvas.graph_scene.blocks["layer1_0_bn1"].sceneBoundingRect()
        assert not shortcut.intersects(bn1)


def test_pasted_blocks_from_inside_a_frame_land_outside_every_frame(window: Any, qtbot: Any) -> None:
    window.resize(1600, 1000)  # a canvas wide enough to show both copies (docks may have grown)
    qtbot.wait(10)
    graph = window.document.graph
    window.canvas.select_blocks(["layer1_0_conv1", "layer1_0_bn1"])
    keys(window, Qt.Key.Key_C)
    keys(window, Qt.Key.Key_V)
    new = window.canvas.selected_block_ids()
    assert len(new) == 2
    window.canvas.graph_scene.flush()
    for block_id in new:
        rect = window.canvas.graph_scene.blocks[block_id].sceneBoundingRect()
        for group, frame in window.canvas.graph_scene.frames.items():
            assert not frame.expanded_rect().intersects(rect), (block_id, group)
    assert clashes(Geometry(graph)) == []
    view_rect = window.canvas.viewport().rect()
    for block_id in new:  # and they are shown
        item = window.canvas.graph_scene.blocks[block_id]
        assert view_rect.contains(window.canvas.mapFromScene(item.sceneBoundingRect()).boundingRect())


@pytest.mark.parametrize("corner", ["top_left", "bottom_right"])
def test_the_first_block_dropped_on_an_empty_canvas_is_fully_visible(qtbot: Any, corner: str) -> None:
    view = make_view(qtbot, Graph("empty"))
    size = view.viewport().size()
    point = QPointF(3, 3) if corner == "top_left" else QPointF(size.width() - 3, size.height() - 3)
    drop_block(view, "conv2d", point)
    qtbot.wait(10)  # the scene grows around the new item on the next turn
    (block_id,) = view.doc.graph.ids()
    item = view.graph_scene.blocks[block_id]
    shown = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(shown)
    assert view.selected_block_ids() == [block_id]


def test_a_dropped_block_never_lands_inside_a_group_frame(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    before = set(resnet20.ids())
    target = view.graph_scene.blocks["layer1_0_bn1"]
    view.centerOn(target)
    drop_block(view, "relu", QPointF(view.mapFromScene(target.sceneBoundingRect().center())))
    (new,) = set(view.doc.graph.ids()) - before
    rect = view.graph_scene.blocks[new].sceneBoundingRect()
    for frame in view.graph_scene.frames.values():
        assert not frame.expanded_rect().intersects(rect)
    assert clashes(Geometry(view.doc.graph)) == []


def test_scene_rects_agree_with_the_core_geometry_for_tall_blocks(qtbot: Any) -> None:
    graph = fileformat_load("googlenet")
    view = make_view(qtbot, graph)
    geo = Geometry(graph)
    for block_id, item in view.graph_scene.blocks.items():
        rect = item.sceneBoundingRect()
        assert (rect.left(), rect.top(), rect.right(), rect.bottom()) == pytest.approx(geo.item(block_id))


def fileformat_load(stem: str) -> Graph:
    from builder import fileformat

    return fileformat.load(GRAPHS / f"{stem}.json")


def test_wires_reroute_around_a_block_dropped_on_their_way(qtbot: Any) -> None:
    graph = Graph("line")
    graph.add_block("input", {"channels": 3, "height": 8, "width": 8}, (0, 0), "input")
    graph.add_block("relu", pos=(720, 0), block_id="relu")
    graph.add_block("sigmoid", pos=(360, 300), block_id="sig")
    graph.connect("input", "relu", 0)
    view = make_view(qtbot, graph)
    wire = view.graph_scene.wires[("relu", 0)]
    assert len(wire.points) == 2  # a straight line while nothing is in the way
    item = view.graph_scene.blocks["sig"]
    start = view.mapFromScene(item.sceneBoundingRect().center())
    end = start + QPoint(0, -300)
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 5):
        QTest.mouseMove(viewport, start + (end - start) * i / 4)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert abs(graph.block("sig").pos[1]) <= 40  # now in the wire's way
    assert crossed(wire.points, scene_obstacles(view), ("input", "relu")) == set()
    assert len(wire.points) > 2


def test_block_items_and_the_core_agree_on_the_block_size() -> None:
    from builder import fixits
    from builder.layout import BLOCK_H, GRID
    from gui.canvas import items, view

    assert items.BLOCK_W == BLOCK_W and items.BLOCK_H == BLOCK_H and view.GRID == GRID
    assert not hasattr(fixits, "BLOCK_SIZE")  # one home for the size: builder.layout
