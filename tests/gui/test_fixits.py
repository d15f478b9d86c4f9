"""Fix-its for a mismatched Add: planning in the core, applying from the canvas as one macro."""

from __future__ import annotations

import pytest

from builder import fixits
from builder.graph import Graph
from builder.templates import cifar_resnet
from builder.validate import validate
from tests.gui.test_canvas import make_view


def broken_resnet20() -> Graph:
    """ResNet-20 whose layer2_0 shortcut is gone: the Add gets the 16×32×32 block input."""
    g = cifar_resnet(20)
    g.remove_block("layer2_0_shortcut")
    g.connect("layer1_2_relu2", "layer2_0_add", 1)
    return g


def test_the_broken_graph_has_the_mismatch() -> None:
    report = validate(broken_resnet20())
    assert [d.code for d in report.errors] == ["add_shape_mismatch"]
    assert report.errors[0].block_id == "layer2_0_add"


def test_plan_offers_option_a_and_b_on_the_skip_port() -> None:
    g = broken_resnet20()
    plans = fixits.plan(g, "layer2_0_add")
    assert [p.code for p in plans] == ["shortcut_pad", "projection"]
    a, b = plans
    assert a.ops[0] == fixits.Op("disconnect", {"target": "layer2_0_add", "port": 1})
    added = [op.args for op in a.ops if op.kind == "add_block"]
    assert added == [{"type_id": "shortcut_pad", "params": {"stride": 2, "out_channels": 32},
                      "pos": added[0]["pos"], "block_id": "layer2_0_shortcut", "group": "layer2.0"}]
    conv, bn = (op.args for op in b.ops if op.kind == "add_block")
    assert conv["params"] == {"out_channels": 32, "kernel_size": 1, "stride": 2, "padding": 0, "bias": False}
    assert bn["type_id"] == "batchnorm2d"
    assert "16×32×32 → 32×16×16" in a.title
    assert g == broken_resnet20()  # planning changes nothing


@pytest.mark.parametrize("code", ["shortcut_pad", "projection"])
def test_each_plan_makes_the_graph_valid(code: str) -> None:
    g = broken_resnet20()
    plan = next(p for p in fixits.plan(g, "layer2_0_add") if p.code == code)
    fixits.apply(g, plan)
    report = validate(g)
    assert report.ok, [str(d) for d in report.errors]
    assert report.shapes["layer2_0_add"] == (32, 16, 16)
    positions = [b.pos for b in g.blocks()]
    assert len(positions) == len(set(positions))  # new blocks do not sit on old ones


def test_skip_port_is_the_one_that_needs_the_transform() -> None:
    g = broken_resnet20()
    g.disconnect("layer2_0_add", 0)
    g.disconnect("layer2_0_add", 1)
    g.connect("layer1_2_relu2", "layer2_0_add", 0)  # skip now on port 0
    g.connect("layer2_0_bn2", "layer2_0_add", 1)
    plan = fixits.plan(g, "layer2_0_add")[0]
    assert plan.ops[0].args == {"target": "layer2_0_add", "port": 0}
    fixits.apply(g, plan)
    assert validate(g).ok


def test_no_plan_for_valid_adds_or_impossible_shapes() -> None:
    g = cifar_resnet(20)
    assert fixits.plan(g, "layer2_0_add") == []
    assert fixits.plan(g, "layer2_0_conv1") == []
    assert fixits.stride_between((16, 32, 32), (32, 16, 16)) == 2
    assert fixits.stride_between((16, 32, 32), (32, 12, 12)) is None
    assert fixits.skip_ports({0: (16, 8, 8), 1: (16, 8, 8)}) is None
    ref, skips = fixits.skip_ports({0: (64, 8, 8), 1: (16, 32, 32)})  # type: ignore[misc]
    assert ref == (64, 8, 8) and skips == {1: (16, 32, 32)}


def test_fewer_channels_after_the_add_gets_only_the_projection() -> None:
    g = broken_resnet20()
    plans = fixits.plan(g, "layer2_0_add")
    assert len(plans) == 2
    g.set_param("layer2_0_conv1", "out_channels", 8)
    g.set_param("layer2_0_conv2", "out_channels", 8)  # main path 8×16×16, skip 16×32×32
    codes = [p.code for p in fixits.plan(g, "layer2_0_add")]
    assert codes == ["projection"]  # zero-padding cannot remove channels


@pytest.mark.parametrize("code", ["shortcut_pad", "projection"])
def test_canvas_applies_a_fixit_as_one_undo_step(qtbot, code: str) -> None:
    view = make_view(qtbot, broken_resnet20())
    doc = view.doc
    before = doc.graph.signature()
    assert view.graph_scene.blocks["layer2_0_add"].severity == "error"
    menu = view.context_menu_for_block("layer2_0_add")
    names = [a.objectName() for a in menu.actions()]
    assert names[:2] == ["fixit_shortcut_pad", "fixit_projection"]
    action = next(a for a in menu.actions() if a.objectName() == f"fixit_{code}")
    action.trigger()
    assert doc.undo_stack.count() == 1
    report = doc.report()
    assert report.ok
    assert view.graph_scene.blocks["layer2_0_add"].severity == ""
    assert set(view.graph_scene.blocks) == set(doc.graph.ids())
    doc.undo_stack.undo()
    assert doc.graph.signature() == before
    assert set(view.graph_scene.wires) == {(w.target, w.port) for w in doc.graph.wires()}
    doc.undo_stack.redo()
    assert doc.report().ok


def test_no_fixit_entries_on_a_valid_block(qtbot, resnet20) -> None:
    view = make_view(qtbot, resnet20)
    menu = view.context_menu_for_block("layer2_0_add")
    assert not any(a.objectName().startswith("fixit_") for a in menu.actions())
    assert [a.text() for a in menu.actions() if a.text()] == ["Copy", "Duplicate", "Delete"]


@pytest.mark.parametrize("code", ["shortcut_pad", "projection"])
def test_a_fixit_places_its_blocks_where_nothing_is_and_makes_room_when_it_must(qtbot, code: str) -> None:
    """Widening conv2 of layer1.0 leaves no free lane under its Add: the rows below move down."""
    from builder import fileformat
    from builder.geometry import Geometry, clashes, problems
    from tests.gui.conftest import GRAPHS

    graph = fileformat.load(GRAPHS / "resnet20.json")
    graph.set_param("layer1_0_conv2", "out_channels", 24)
    assert clashes(Geometry(graph)) == []
    view = make_view(qtbot, graph)
    old = set(graph.ids())
    menu = view.context_menu_for_block("layer1_0_add")
    next(a for a in menu.actions() if a.objectName() == f"fixit_{code}").trigger()
    assert view.doc.report().for_block("layer1_0_add") == [] and view.doc.undo_stack.count() == 1
    new = [b for b in graph.ids() if b not in old]
    add_y = graph.block("layer1_0_add").pos[1]
    assert new and all(graph.block(b).pos[1] > add_y for b in new)  # a lane under the Add
    assert all(graph.block(b).group == "layer1.0" for b in new)
    assert clashes(Geometry(graph)) == []  # over nothing; frames still hold exactly their blocks
    view.graph_scene.flush()
    routes = {key: wire.points for key, wire in view.graph_scene.wires.items()}
    assert problems(graph, routes=routes) == []
    assert graph.block("layer1_1_conv1").pos[1] > fileformat.load(GRAPHS / "resnet20.json").block(
        "layer1_1_conv1").pos[1]  # the next row made room
    view.doc.undo_stack.undo()  # one step takes the blocks and the room away again
    assert graph.block("layer1_1_conv1").pos == fileformat.load(GRAPHS / "resnet20.json").block(
        "layer1_1_conv1").pos
