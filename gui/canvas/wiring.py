"""Rules for a wire drawn by hand: which drags make a wire and why the others are refused.

Pure Python over the core graph, so the reasons can be tested without a mouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from builder.graph import Graph, Wire


@dataclass(frozen=True)
class PortRef:
    """One end of a drag: a block, ``"in"`` or ``"out"``, and the input port number."""

    block_id: str
    kind: str
    port: int = 0


def plan_wire(graph: Graph, start: PortRef, end: PortRef) -> Wire | str:
    """The wire a drag from ``start`` to ``end`` makes, or the reason it is refused."""
    if start.kind == end.kind == "in":
        return ("both ends are inputs: a wire runs from an output port (right side of a block) "
                "to an input port (left side)")
    if start.kind == end.kind == "out":
        return ("both ends are outputs: a wire runs from an output port (right side of a block) "
                "to an input port (left side)")
    out, inp = (start, end) if start.kind == "out" else (end, start)
    source, target, port = out.block_id, inp.block_id, inp.port
    if source == target:
        return f"'{source}' cannot feed itself"
    taken = graph.inputs_of(target).get(port)
    if taken is not None:
        return f"input {port} of '{target}' is already wired from '{taken}'; delete that wire first"
    if nx.has_path(graph.nx, target, source):
        return f"wiring '{source}' into '{target}' would make a cycle ('{target}' already feeds '{source}')"
    return Wire(source, target, port)
