"""The plain twin of a residual graph: the same layers with every shortcut removed.

He et al.'s Figure 1 compares a residual net with its *plain* counterpart: identical stacked
layers, no identity shortcuts. :func:`plain_twin` derives it from any graph. At each Add the
*skip* input is the one whose longest path from the graph's inputs is shorter (the branch that
jumps over layers); its wire is removed and, when a single input is left, the Add is bypassed:
its remaining source feeds the Add's consumers directly. Blocks that then no longer reach an
Output (an option-A ``shortcut_pad``, an option-B projection) are removed, so an option-A
ResNet and its twin have the same parameter count. An Add whose inputs are equally deep (no
branch skips over another) is left as it is. Qt-free; the input graph is not changed.
"""

from __future__ import annotations

from builder.graph import Graph


def skip_port(graph: Graph, add_id: str, depth: dict[str, int]) -> int | None:
    """The input port of ``add_id`` that carries the skip branch, or None when none is shallower."""
    inputs = graph.inputs_of(add_id)
    if len(inputs) < 2:
        return None
    ranked = sorted(inputs.items(), key=lambda item: (depth[item[1]], item[0]))
    shallow, next_deepest = ranked[0], ranked[1]
    return shallow[0] if depth[shallow[1]] < depth[next_deepest[1]] else None


def _reaching_outputs(graph: Graph) -> set[str]:
    """Blocks with a path to some Output block (Output blocks included)."""
    outputs = [b.id for b in graph.blocks() if b.type == "output"]
    alive: set[str] = set(outputs)
    stack = list(outputs)
    while stack:
        for src in graph.inputs_of(stack.pop()).values():
            if src not in alive:
                alive.add(src)
                stack.append(src)
    return alive


def _bypass(graph: Graph, add_id: str, port: int) -> None:
    """Remove ``port``'s wire from ``add_id``; compact or bypass what is left."""
    graph.disconnect(add_id, port)
    rest = [src for _p, src in sorted(graph.inputs_of(add_id).items())]
    if len(rest) == 1:
        consumers = list(graph.consumers(add_id))
        graph.remove_block(add_id)
        for wire in consumers:
            graph.connect(rest[0], wire.target, wire.port)
        return
    for p in list(graph.inputs_of(add_id)):
        graph.disconnect(add_id, p)
    for p, src in enumerate(rest):
        graph.connect(src, add_id, p)


def plain_twin(graph: Graph, name: str | None = None) -> Graph:
    """A copy of ``graph`` without residual shortcuts (see the module docstring)."""
    twin = graph.copy()
    twin.name = name or f"{graph.name}-plain"
    alive_before = _reaching_outputs(twin)
    depth = twin.depths()
    adds = [b.id for b in twin.blocks() if b.type == "add"]
    ports = {add_id: skip_port(twin, add_id, depth) for add_id in adds}
    for add_id, port in ports.items():
        if port is not None:
            _bypass(twin, add_id, port)
    dead = alive_before - _reaching_outputs(twin)
    for block_id in [b for b in twin.topological_ids() if b in dead]:
        twin.remove_block(block_id)
    return twin


def residual_adds(graph: Graph) -> list[str]:
    """Add blocks that have a skip input (a shallower branch); empty for a plain net."""
    depth = graph.depths()
    return [b.id for b in graph.blocks() if b.type == "add" and skip_port(graph, b.id, depth) is not None]
