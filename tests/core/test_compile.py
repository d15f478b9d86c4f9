"""Compile: inferred shapes equal torch's, the paper's parameter counts, module naming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import fx

from builder import fileformat, templates
from builder.compile import CompileError, compile_graph
from builder.graph import Graph
from builder.naming import class_name
from builder.validate import validate
from tests.core.conftest import GRAPHS, chain

PARAMS = {
    **dict.fromkeys(("resnet20", "plain20"), 269_722),
    **dict.fromkeys(("resnet32", "plain32"), 464_154),
    **dict.fromkeys(("resnet44", "plain44"), 658_586),
    **dict.fromkeys(("resnet56", "plain56"), 853_018),
    **dict.fromkeys(("resnet110", "plain110"), 1_727_962),
    "vgg16": 14_728_266,
    "lenet": 62_006,
}


class _Recorder(fx.Interpreter):
    """Runs a compiled module and keeps every node's output."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module, garbage_collect_values=False)
        self.values: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        self.values[n] = result = super().run_node(n)
        return result


def _actual_shapes(graph: Graph, module: fx.GraphModule) -> dict[str, tuple[int, ...]]:
    """Block id → the per-sample shape torch produced for it (eval mode, batch of one)."""
    input_block = next(b for b in graph.blocks() if b.type == "input")
    x = torch.randn(1, *validate(graph).shapes[input_block.id])
    recorder = _Recorder(module.eval())
    with torch.no_grad():
        out = recorder.run(x)
    by_path = {path: block_id for block_id, path in module.block_paths.items()}
    shapes: dict[str, tuple[int, ...]] = {"output": tuple(out.shape[1:])}
    for node, value in recorder.values.items():
        if node.op == "placeholder":
            shapes[input_block.id] = tuple(value.shape[1:])
        elif node.op == "call_module":
            shapes[by_path[node.target]] = tuple(value.shape[1:])
        elif node.op == "call_function":
            assert node.name in graph, f"fx renamed block {node.name}"
            shapes[node.name] = tuple(value.shape[1:])
    return shapes


def test_inferred_shapes_equal_torch_for_every_block(shipped: Path) -> None:
    graph = fileformat.load(shipped)
    report = validate(graph)
    actual = _actual_shapes(graph, compile_graph(graph, report))
    assert set(actual) == set(graph.ids())
    assert actual == report.shapes


@pytest.mark.parametrize("stem", sorted(PARAMS))
def test_parameter_counts_match_the_papers(stem: str) -> None:
    module = compile_graph(fileformat.load(GRAPHS / f"{stem}.json"))
    assert sum(p.numel() for p in module.parameters()) == PARAMS[stem]


def test_option_b_adds_projection_parameters() -> None:
    module = compile_graph(fileformat.load(GRAPHS / "resnet20b.json"))
    # two 1×1 projections (16→32, 32→64) with their BatchNorms
    extra = 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64
    assert sum(p.numel() for p in module.parameters()) == PARAMS["resnet20"] + extra


def test_state_dict_keys_follow_groups() -> None:
    module = compile_graph(fileformat.load(GRAPHS / "resnet20.json"))
    keys = set(module.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer2.0.conv1.weight", "layer3.2.bn2.bias",
            "fc.weight", "fc.bias"} <= keys
    assert not any("layer2_0" in k for k in keys)
    assert module.block_paths["layer2_0_conv1"] == "layer2.0.conv1"
    assert module.block_paths["layer2_0_shortcut"] == "layer2.0.shortcut"
    assert "input" not in module.block_paths and "layer1_0_add" not in module.block_paths
    assert type(module).__name__ == "Resnet20"


def test_projection_shortcut_names() -> None:
    module = compile_graph(fileformat.load(GRAPHS / "resnet20b.json"))
    assert "layer2.0.conv_shortcut.weight" in module.state_dict()
    assert "layer3.0.bn_shortcut.running_var" in module.state_dict()


def test_residual_add_is_in_the_forward() -> None:
    module = compile_graph(templates.cifar_resnet(8))
    adds = [n for n in module.graph.nodes if n.op == "call_function" and "add" in n.name]
    assert len(adds) == 3
    plain = compile_graph(templates.cifar_resnet(8, residual=False))
    assert not any(n.op == "call_function" and "add" in n.name for n in plain.graph.nodes)


def test_plain_and_residual_nets_differ_only_in_shortcuts() -> None:
    res = compile_graph(templates.cifar_resnet(8))
    plain = compile_graph(templates.cifar_resnet(8, residual=False))
    assert {k: v.shape for k, v in res.state_dict().items()} == \
        {k: v.shape for k, v in plain.state_dict().items()}
    plain.load_state_dict(res.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(res.eval()(x), plain.eval()(x))


def test_compiled_module_trains() -> None:
    module = compile_graph(chain("conv2d", "batchnorm2d", "relu", "global_avgpool", "flatten",
                                 "linear", b0={"out_channels": 4}))
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    loss = torch.nn.functional.cross_entropy(module(x), y)
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in module.parameters())


def test_variadic_add_and_concat_compile() -> None:
    graph = chain("relu", "add", "concat", shape=(2, 4, 4))
    graph.connect("input", "b1", 1)
    graph.connect("input", "b1", 2)
    graph.connect("input", "b2", 1)
    module = compile_graph(graph)
    x = torch.randn(1, 2, 4, 4)
    expected = torch.cat([x.relu() + x + x, x], 1)
    assert torch.allclose(module(x), expected)


def test_errors_are_refused_with_every_diagnostic() -> None:
    graph = chain("flatten", "conv2d", "relu")
    graph.add_block("linear", block_id="loose")
    with pytest.raises(CompileError) as info:
        compile_graph(graph)
    text = str(info.value)
    assert "2 error(s)" in text and "b1:" in text and "loose:" in text and "[needs_image]" in text


def test_unused_blocks_are_left_out() -> None:
    graph = chain("relu")
    graph.add_block("conv2d", block_id="dangling")
    graph.connect("input", "dangling", 0)
    module = compile_graph(graph)
    assert "dangling" not in module.block_paths
    assert not list(module.parameters())


@pytest.mark.parametrize(("name", "expected"), [("resnet20", "Resnet20"), ("my net-2", "MyNet2"),
                                                ("20x", "Net20x"), ("", "Model")])
def test_class_name(name: str, expected: str) -> None:
    assert class_name(name) == expected
