"""builder.twin: the plain twin of a residual graph (same layers, no shortcuts)."""

from __future__ import annotations

import pytest

from builder import templates
from builder.graph import Graph
from builder.summary import summarize
from builder.twin import plain_twin, residual_adds, skip_port
from builder.validate import validate


def _wires(graph: Graph) -> set[tuple[str, str, int]]:
    return {(w.source, w.target, w.port) for w in graph.wires()}


@pytest.mark.parametrize("depth", [20, 56])
def test_twin_of_option_a_resnet_is_the_plain_template(depth: int) -> None:
    resnet = templates.cifar_resnet(depth)
    twin = plain_twin(resnet)
    plain = templates.cifar_resnet(depth, residual=False)
    assert validate(twin).ok
    assert summarize(twin).total_params == summarize(resnet).total_params == summarize(plain).total_params
    assert not [b for b in twin.blocks() if b.type in ("add", "shortcut_pad")]
    assert residual_adds(twin) == []
    assert sorted(twin.ids()) == sorted(plain.ids())
    assert _wires(twin) == _wires(plain)


def test_original_graph_is_untouched_and_twin_is_named() -> None:
    resnet = templates.cifar_resnet(20)
    before = resnet.signature()
    twin = plain_twin(resnet)
    assert resnet.signature() == before
    assert twin.name == "resnet20-plain"
    assert len(residual_adds(resnet)) == 9


def test_option_b_projection_is_removed_with_its_shortcut() -> None:
    resnet = templates.cifar_resnet(20, shortcut="B")
    twin = plain_twin(resnet)
    assert validate(twin).ok
    assert summarize(twin).total_params == summarize(templates.cifar_resnet(20, residual=False)).total_params
    assert not any("shortcut" in block_id for block_id in twin.ids())


def test_skip_input_is_the_shallower_branch_whichever_port_it_uses() -> None:
    g = Graph("swapped")
    g.add_block("input", {"channels": 4, "height": 8, "width": 8}, block_id="x")
    g.add_block("conv2d", {"out_channels": 4, "padding": 1}, block_id="c1")
    g.add_block("relu", block_id="r1")
    g.add_block("add", block_id="add")
    g.add_block("global_avgpool", block_id="gap")
    g.add_block("flatten", block_id="flat")
    g.add_block("linear", {"out_features": 3}, block_id="fc")
    g.add_block("output", block_id="out")
    for src, dst in (("x", "c1"), ("c1", "r1"), ("add", "gap"), ("gap", "flat"), ("flat", "fc"),
                     ("fc", "out")):
        g.connect(src, dst, 0)
    g.connect("x", "add", 0)  # skip on port 0 this time
    g.connect("r1", "add", 1)
    assert skip_port(g, "add", g.depths()) == 0
    twin = plain_twin(g)
    assert "add" not in twin
    assert twin.inputs_of("gap") == {0: "r1"}
    assert validate(twin).ok


def test_add_of_equally_deep_branches_is_kept() -> None:
    g = Graph("branches")
    g.add_block("input", {"channels": 2, "height": 4, "width": 4}, block_id="x")
    g.add_block("relu", block_id="a")
    g.add_block("tanh", block_id="b")
    g.add_block("add", block_id="add")
    g.add_block("output", block_id="out")
    g.connect("x", "a", 0)
    g.connect("x", "b", 0)
    g.connect("a", "add", 0)
    g.connect("b", "add", 1)
    g.connect("add", "out", 0)
    twin = plain_twin(g)
    assert _wires(twin) == _wires(g)
    assert residual_adds(g) == []
