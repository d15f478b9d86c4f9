"""Tiny nets whose X-ray is known by hand, and a trained run folder for the commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from builder import fileformat, templates
from builder.compile import compile_graph
from builder.graph import Graph

torch.set_num_threads(1)  # the suite shares two cores

FAST = ["--dataset", "synthetic", "--device", "cpu", "--batch-size", "32", "--threads", "1", "--quiet"]


def conv_chain(scales: list[float], channels: int = 2, classes: int = 2, relu_at: int | None = None) -> Graph:
    """Input (C×1×1) → 1×1 convs (weight = scale·I, no bias) → flatten → linear head → output.

    With ``relu_at`` a ReLU follows that conv.
    """
    graph = Graph("chain")
    prev = graph.add_block("input", {"channels": channels, "height": 1, "width": 1}, block_id="input")
    for i, _ in enumerate(scales):
        conv = graph.add_block("conv2d", {"out_channels": channels, "kernel_size": 1, "padding": 0,
                                          "bias": False}, block_id=f"conv{i + 1}")
        graph.connect(prev, conv)
        prev = conv
        if relu_at == i:
            graph.add_block("relu", block_id="relu")
            graph.connect(prev, "relu")
            prev = "relu"
    graph.add_block("flatten", block_id="flatten")
    graph.connect(prev, "flatten")
    graph.add_block("linear", {"out_features": classes, "bias": False}, block_id="fc")
    graph.connect("flatten", "fc")
    graph.add_block("output", block_id="output")
    graph.connect("fc", "output")
    return graph


def set_chain_weights(module: torch.nn.Module, scales: list[float], head: torch.Tensor) -> None:
    paths = module.block_paths  # type: ignore[attr-defined]
    with torch.no_grad():
        for i, s in enumerate(scales):
            conv = module.get_submodule(paths[f"conv{i + 1}"])
            conv.weight.copy_(s * torch.eye(conv.weight.shape[0])[:, :, None, None])
        module.get_submodule(paths["fc"]).weight.copy_(head)


def two_block_net(channels: int = 3) -> Graph:
    """stem (1×1 conv) → relu0 → [unit1: conv → bn → Add(·, relu0)] → relu1 → [unit2 …] → relu2 → head."""
    graph = Graph("two_block")
    graph.add_block("input", {"channels": channels, "height": 4, "width": 4}, block_id="input")
    graph.add_block("conv2d", {"out_channels": channels, "kernel_size": 1, "padding": 0}, block_id="stem")
    graph.connect("input", "stem")
    graph.add_block("relu", block_id="relu0")
    graph.connect("stem", "relu0")
    prev = "relu0"
    for k in (1, 2):
        group = f"unit{k}"
        conv, bn, add, relu = (f"{group}_{n}" for n in ("conv", "bn", "add", "relu"))
        graph.add_block("conv2d", {"out_channels": channels, "kernel_size": 3}, block_id=conv, group=group)
        graph.add_block("batchnorm2d", block_id=bn, group=group)
        graph.add_block("add", block_id=add, group=group)
        graph.add_block("relu", block_id=relu, group=group)
        graph.connect(prev, conv)
        graph.connect(conv, bn)
        graph.connect(bn, add, 0)
        graph.connect(prev, add, 1)
        graph.connect(add, relu)
        prev = relu
    for block_id, type_id, params in (("pool", "global_avgpool", {}), ("flatten", "flatten", {}),
                                      ("fc", "linear", {"out_features": 3}), ("output", "output", {})):
        graph.add_block(type_id, params, block_id=block_id)
        graph.connect(prev, block_id)
        prev = block_id
    return graph


def compiled(graph: Graph, seed: int = 0) -> torch.fx.GraphModule:
    torch.manual_seed(seed)
    return compile_graph(graph)


def tiny(residual: bool) -> Graph:
    return templates.cifar_resnet(8, residual=residual, input_shape=(3, 8, 8), widths=(4, 8, 8),
                                  num_classes=4)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Graph files and one-epoch run folders: plain8, resnet8 and a chain nothing can be lesioned in."""
    from builder.cli import main

    root = tmp_path_factory.mktemp("xray_runs")
    chain = Graph("chain8")
    chain.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input")
    for block_id, type_id, params, src in (
            ("conv", "conv2d", {"out_channels": 6}, "input"), ("relu", "relu", {}, "conv"),
            ("pool", "global_avgpool", {}, "relu"), ("flatten", "flatten", {}, "pool"),
            ("fc", "linear", {"out_features": 10}, "flatten"), ("output", "output", {}, "fc")):
        chain.add_block(type_id, params, block_id=block_id)
        chain.connect(src, block_id)
    found: dict[str, Path] = {}
    for name, graph in (("plain8", tiny(False)), ("resnet8", tiny(True)), ("chain8", chain)):
        path = root / f"{name}.json"
        fileformat.save(graph, path)
        found[name] = path
        run = root / f"run-{name}"
        assert main(["train", str(path), *FAST, "--epochs", "1", "--run-dir", str(run)]) == 0
        found[f"run-{name}"] = run
    return found
