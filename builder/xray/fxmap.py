"""Find a block's nodes in a compiled module's fx graph, and rewrite copies of that graph.

:func:`~builder.compile.compile_graph` makes one fx node per block (a ``call_module`` for
blocks with a module, a placeholder for the Input, ``k - 1`` chained additions for a k-input
Add). Node *names* cannot be trusted to equal block ids (fx renames ``input`` to ``input_1``),
so :func:`block_nodes` matches nodes by structure instead: module targets by the module's
``block_paths``, functional nodes by their function and the nodes of their sources.

:func:`rewired` builds a new ``GraphModule`` that shares the original's submodules (no weights
are copied) with some blocks' outputs replaced, and drops what no longer reaches the output:
a lesion runs at the speed of the smaller net.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping

import torch
from torch import fx

from builder.graph import Graph

FUNCTIONS = {"add": operator.add, "concat": torch.cat, "flatten": torch.flatten}


def block_nodes(graph: Graph, module: fx.GraphModule) -> dict[str, list[fx.Node]]:
    """``{block id: its fx nodes}``, the last node giving the block's output value."""
    paths: dict[str, str] = getattr(module, "block_paths", {})
    by_target = {n.target: n for n in module.graph.nodes if n.op == "call_module"}
    placeholders = [n for n in module.graph.nodes if n.op == "placeholder"]
    found: dict[str, list[fx.Node]] = {}
    for block_id in graph.topological_ids():
        block = graph.block(block_id)
        if block_id in paths and paths[block_id] in by_target:
            found[block_id] = [by_target[paths[block_id]]]
        elif block.type == "input" and placeholders:
            found[block_id] = placeholders[:1]
        else:
            sources = [found.get(s) for _, s in sorted(graph.inputs_of(block_id).items())]
            if sources and all(sources) and block.type in FUNCTIONS:
                chain = _functional(block.type, [s[-1] for s in sources if s])
                if chain:
                    found[block_id] = chain
    return found


def _functional(type_id: str, args: list[fx.Node]) -> list[fx.Node]:
    """The node(s) computing a functional block from the nodes of its sources."""
    fn = FUNCTIONS[type_id]
    if type_id == "add":
        chain, acc = [], args[0]
        for arg in args[1:]:
            node = next((u for u in acc.users if u.target is fn and u.args == (acc, arg)), None)
            if node is None:
                return []
            chain.append(node)
            acc = node
        return chain
    for user in args[0].users:
        first = user.args[0] if user.args else None
        if user.target is fn and (first == tuple(args) or first is args[0]):
            return [user]
    return []


def consumer_nodes(source: fx.Node, nodes: list[fx.Node]) -> list[fx.Node]:
    """Those of a consumer block's ``nodes`` that read ``source`` directly."""
    return [n for n in nodes if source in n.all_input_nodes]


def rewired(module: fx.GraphModule, replace: Mapping[fx.Node, fx.Node]) -> fx.GraphModule:
    """A copy of ``module`` in which every use of node ``k`` reads node ``replace[k]`` instead.

    Nodes are the original module's; submodules are shared, and nodes that no longer reach the
    output are removed.
    """
    new_graph = fx.Graph()
    copies: dict[fx.Node, fx.Node] = {}
    out = new_graph.graph_copy(module.graph, copies)
    new_graph.output(out)
    for old, new in replace.items():
        copies[old].replace_all_uses_with(copies[new])
    result = fx.GraphModule(module, new_graph, class_name=type(module).__name__)
    result.graph.eliminate_dead_code()
    result.recompile()
    result.block_paths = getattr(module, "block_paths", {})  # type: ignore[assignment]
    return result
