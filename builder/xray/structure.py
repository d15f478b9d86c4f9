"""Where a graph's residual units are, and which of its parts can be lesioned (no torch).

A *residual unit* is an Add with a skip input (:func:`builder.twin.skip_port`): the *fork* is
the block whose output feeds both the skip path and the residual branch; the skip path runs
from the fork to the Add's skip port (no blocks for an identity shortcut, a ShortcutPad for
option A, a 1×1 Conv2d + BatchNorm2d for option B); the branch starts at the fork's other
consumers that lead to the Add's branch input and ends at that input.

A plain net has no such units. Its *groups* (``layer2.1``) can be lesioned instead when a group
takes one tensor and gives one tensor of the same shape: deleting it wires its input straight
to its consumers. When no group can be deleted (no groups, or VGG's stages that end in a
pooling layer) single Conv2d/Linear blocks whose input and output shapes agree are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from builder.catalog import fmt_shape
from builder.graph import Graph, Wire
from builder.twin import skip_port
from builder.validate import Report


@dataclass(frozen=True)
class ResidualUnit:
    """One Add with a skip input, and the two paths that meet there."""

    add_id: str
    label: str  # the Add's group path, or its id when it has none
    fork: str  # the block whose output feeds both paths
    skip_port: int
    skip_source: str  # the block wired into the Add's skip port
    skip_first: str  # the fork's consumer on the skip path (the Add itself for an identity skip)
    branch_source: str  # the block wired into the Add's branch port
    branch_first: tuple[str, ...]  # the fork's consumers on the branch

    @property
    def identity(self) -> bool:
        return self.skip_first == self.add_id


@dataclass(frozen=True)
class LesionUnit:
    """A part of a net that a lesion study deletes, or why it cannot be deleted."""

    label: str
    kind: str  # "branch" (zero a residual branch, keep the skip) or "bypass" (delete a group/block)
    target: str  # branch: the Add id; bypass: the block whose output is replaced
    source: str  # branch: the branch's source block; bypass: the block whose output replaces it
    reason: str = ""  # why it cannot be lesioned ("" when it can)

    @property
    def ok(self) -> bool:
        return not self.reason


def _label(graph: Graph, block_id: str) -> str:
    return graph.block(block_id).group or block_id


def _fork(graph: Graph, add_id: str, port: int) -> tuple[str, str] | None:
    """``(fork, first block on the skip path)`` walking back from the Add's skip input."""
    prev, cur = add_id, graph.inputs_of(add_id)[port]
    while len(graph.consumers(cur)) == 1:
        inputs = graph.inputs_of(cur)
        if len(inputs) != 1:
            return None  # the skip path starts at the Input: nothing forks
        prev, cur = cur, next(iter(inputs.values()))
    return cur, prev


def residual_units(graph: Graph) -> list[ResidualUnit]:
    """Every residual unit, in topological order of its Add (empty for a plain net)."""
    try:
        order = graph.topological_ids()
    except nx.NetworkXUnfeasible:
        return []
    depth = graph.depths()
    units = []
    for add_id in (b for b in order if graph.block(b).type == "add"):
        port = skip_port(graph, add_id, depth)
        found = _fork(graph, add_id, port) if port is not None else None
        if port is None or found is None:
            continue
        fork, skip_first = found
        inputs = graph.inputs_of(add_id)
        branch_port = next(p for p in sorted(inputs) if p != port)
        branch_source = inputs[branch_port]
        branch_first = tuple(sorted({w.target for w in graph.consumers(fork) if w.target != skip_first
                                     and nx.has_path(graph.nx, w.target, branch_source)}))
        if branch_first:
            units.append(ResidualUnit(add_id, _label(graph, add_id), fork, port, inputs[port],
                                      skip_first, branch_source, branch_first))
    return units


def unit_skip_wires(graph: Graph, unit: ResidualUnit) -> list[Wire]:
    """The wires of a unit's skip path, from the Add back to the fork."""
    cur, port, found = unit.add_id, unit.skip_port, []
    while True:
        src = graph.inputs_of(cur)[port]
        found.append(Wire(src, cur, port))
        if src == unit.fork:
            return found
        cur, port = src, 0


def lesion_units(graph: Graph, report: Report) -> list[LesionUnit]:
    """What a lesion study deletes: residual branches, else groups, else single layers."""
    residual = residual_units(graph)
    if residual:
        return [LesionUnit(u.label, "branch", u.add_id, u.branch_source) for u in residual]
    groups = _groups(graph, report)
    if any(u.ok for u in groups):
        return groups
    layers = _layers(graph, report)
    return layers if any(u.ok for u in layers) or not groups else groups


def _groups(graph: Graph, report: Report) -> list[LesionUnit]:
    order = [b for b in report.order if b in report.shapes]
    names = list(dict.fromkeys(graph.block(b).group for b in order if graph.block(b).group))
    return [_group_unit(graph, report, name, order) for name in names]


def _group_unit(graph: Graph, report: Report, group: str, order: list[str]) -> LesionUnit:
    members = {b for b in order if graph.block(b).group == group
               or graph.block(b).group.startswith(group + ".")}
    entries = sorted({src for b in members for src in graph.inputs_of(b).values() if src not in members})
    exits = [b for b in order if b in members and any(w.target not in members for w in graph.consumers(b))]
    if len(entries) != 1 or len(exits) != 1:
        return LesionUnit(group, "bypass", exits[0] if exits else "", entries[0] if entries else "",
                          f"takes {len(entries)} input(s) and gives {len(exits)} output(s)")
    return _bypass(report, group, exits[0], entries[0])


def _bypass(report: Report, label: str, target: str, source: str) -> LesionUnit:
    before, after = report.shapes.get(source), report.shapes.get(target)
    reason = "" if before == after else f"the shape changes ({fmt_shape(before)} → {fmt_shape(after)})"
    return LesionUnit(label, "bypass", target, source, reason)


def _layers(graph: Graph, report: Report) -> list[LesionUnit]:
    units = []
    for block_id in report.order:
        block = graph.block(block_id)
        inputs = graph.inputs_of(block_id)
        if block.type in ("conv2d", "linear") and len(inputs) == 1 and block_id in report.shapes:
            units.append(_bypass(report, block_id, block_id, inputs[0]))
    return units
