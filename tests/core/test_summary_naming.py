"""Module naming (block id + group → submodule path) and the torchinfo summary."""

from __future__ import annotations

import pytest
from torch import nn

from builder import fileformat
from builder.compile import compile_graph
from builder.graph import Graph
from builder.naming import module_paths
from builder.summary import summarize
from tests.core.conftest import GRAPHS, chain


def test_group_prefix_is_stripped() -> None:
    graph = chain("conv2d", "relu")
    graph.rename("b0", "layer2_0_conv1")
    graph.set_group(["layer2_0_conv1"], "layer2.0")
    graph.set_group(["b1"], "layer2.0")
    paths = module_paths(graph)
    assert paths["layer2_0_conv1"] == "layer2.0.conv1"
    assert paths["b1"] == "layer2.0.b1"  # no prefix to strip: the id itself


def test_block_named_like_a_group_gets_its_full_id() -> None:
    graph = Graph()
    graph.add_block("relu", block_id="layer1")  # root-level child "layer1"…
    graph.add_block("relu", block_id="layer1_conv", group="layer1")  # …is also a group
    paths = module_paths(graph)
    assert paths["layer1_conv"] == "layer1.conv"
    assert paths["layer1"] != "layer1" and paths["layer1"].startswith("layer1")
    assert len(set(paths.values())) == 2


def test_two_blocks_with_one_local_name_stay_apart() -> None:
    graph = Graph()
    graph.add_block("relu", block_id="a_relu", group="a")
    graph.add_block("relu", block_id="relu", group="a")
    paths = module_paths(graph)
    assert sorted(paths.values()) == ["a.relu", "a.relu_"]


@pytest.mark.parametrize("block_id", ["forward", "training", "code", "state_dict", "graph"])
def test_module_attribute_names_compile(block_id: str) -> None:
    graph = chain("conv2d", b0={"out_channels": 2})
    graph.rename("b0", block_id)
    module = compile_graph(graph)
    path = module.block_paths[block_id]
    assert path != block_id and isinstance(module.get_submodule(path), nn.Conv2d)


def test_summary_rows_and_totals() -> None:
    summary = summarize(fileformat.load(GRAPHS / "resnet20.json"))
    rows = {r.block_id: r for r in summary.rows}
    assert rows["conv1"].params == 3 * 16 * 9 and rows["conv1"].shape == (16, 32, 32)
    assert rows["conv1"].mult_adds == 3 * 16 * 9 * 32 * 32
    assert rows["bn1"].params == 32 and rows["fc"].params == 650
    assert rows["layer2_0_shortcut"].params == 0 and rows["layer2_0_add"].shape == (32, 16, 16)
    assert sum(r.params for r in summary.rows) == summary.total_params == 269_722
    assert summary.trainable_params == summary.total_params
    assert summary.input_shape == (3, 32, 32)
    table = summary.table()
    assert "Total params: 269,722" in table and table.count("\n") == len(summary.rows) + 6
