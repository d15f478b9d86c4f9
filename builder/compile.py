"""Compile a graph into a ``torch.fx.GraphModule`` (imports torch).

Submodules are named by :mod:`builder.naming` (block id and group path), so a ResNet's
``layer2_0_conv1`` in group ``layer2.0`` is the submodule ``layer2.0.conv1``. The module
carries ``block_paths`` (block id → module path) for gradient probes and summaries.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from torch import fx, nn

from builder.graph import Block, Graph
from builder.naming import class_name, module_paths
from builder.validate import Report, validate


class CompileError(ValueError):
    """The graph has errors; the message lists every one of them."""

    def __init__(self, report: Report) -> None:
        self.report = report
        lines = "\n".join(f"  {d}" for d in report.errors)
        super().__init__(f"the graph has {len(report.errors)} error(s):\n{lines}")


def compile_graph(graph: Graph, report: Report | None = None) -> fx.GraphModule:
    """Build the torch module for ``graph``; raises :class:`CompileError` on errors."""
    report = report or validate(graph)
    if not report.ok:
        raise CompileError(report)
    output_id = next(b.id for b in graph.blocks() if b.type == "output")
    useful = nx.ancestors(graph.nx, output_id) | {output_id}
    order = [b for b in report.order if b in useful]
    module_ids = [b for b in order if graph.block(b).spec.has_module]
    paths = module_paths(graph, module_ids)
    root = nn.Module()
    fx_graph = fx.Graph()
    values: dict[str, fx.Node] = {}
    for block_id in order:
        block = graph.block(block_id)
        sources = [src for _, src in sorted(graph.inputs_of(block_id).items())]
        args = [values[s] for s in sources]
        name, spec = _node_name(block_id), block.spec
        if spec.role == "module":
            _attach(root, paths[block_id], spec.make(block.params, [report.shapes[s] for s in sources]))
            values[block_id] = fx_graph.create_node("call_module", paths[block_id], (args[0],), name=name)
        elif spec.role == "input":
            values[block_id] = fx_graph.placeholder(name)
        elif spec.role == "output":
            fx_graph.output(args[0])
        else:
            values[block_id] = _function(fx_graph, block, name, args)
    module = fx.GraphModule(root, fx_graph, class_name=class_name(graph.name))
    module.block_paths = paths  # type: ignore[assignment]
    return module


def _node_name(block_id: str) -> str:
    """The fx node (local variable) name: a block called ``self`` must not shadow forward's self."""
    return "self_" if block_id == "self" else block_id


def _function(fx_graph: fx.Graph, block: Block, name: str, args: list[fx.Node]) -> fx.Node:
    """The nodes of a block without a module: its catalog :class:`~builder.blocktype.Function`."""
    function = block.spec.function
    if function is None:
        raise ValueError(f"no compile rule for block type {block.type!r}")

    def emit(target: Any, *call_args: Any) -> fx.Node:
        return fx_graph.create_node("call_function", target, call_args, name=name)

    node: fx.Node = function.apply(block.params, args, emit)
    return node


def _attach(root: nn.Module, path: str, module: nn.Module) -> None:
    """Set ``module`` at dotted ``path`` under ``root``, creating containers on the way."""
    *parents, leaf = path.split(".")
    node = root
    for part in parents:
        child = node._modules.get(part)
        if child is None:
            child = nn.Module()
            node.add_module(part, child)
        node = child
    node.add_module(leaf, module)
