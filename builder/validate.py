"""Shape inference and diagnostics for a graph (pure Python: no torch, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from builder import resources
from builder.catalog import Shape, ShapeError, fmt_shape
from builder.graph import Block, Graph

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

# Every diagnostic code validation can produce, with a short description.
CODES = {
    "no_input": "the graph has no Input block",
    "no_output": "the graph has no Output block",
    "multiple_inputs": "more than one Input block",
    "multiple_outputs": "more than one Output block",
    "bad_param": "a parameter value is out of range or of the wrong type",
    "missing_input": "an input port is not wired",
    "extra_input": "a wire goes to a port the block does not have",
    "cycle": "the block is part of a cycle",
    "unreachable": "the block cannot be reached from the Input",
    "unused": "the block's output never reaches the Output",
    "needs_image": "a block that needs C×H×W got a flat tensor",
    "kernel_too_large": "a kernel is larger than its (padded) input",
    "groups_mismatch": "groups do not divide the channels",
    "linear_4d": "a Linear block is fed a C×H×W tensor",
    "add_shape_mismatch": "the inputs of an Add have different shapes",
    "concat_mismatch": "the inputs of a Concat have different spatial sizes",
    "too_large": "the model needs more memory than the limit (parameters + block outputs for the batch)",
    "memory_setting": "the memory limit setting is not a size; the default limit is used",
}


@dataclass(frozen=True)
class Diagnostic:
    block_id: str  # "" for graph-wide problems
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.block_id}: " if self.block_id else ""
        return f"{self.severity}: {where}{self.message} [{self.code}]"


@dataclass
class Report:
    """What validation found: diagnostics and the inferred output shape of each block."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # topological order of the acyclic part
    params: dict[str, int] = field(default_factory=dict)  # parameters of each block in the model

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def for_block(self, block_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.block_id == block_id]

    def add(self, block_id: str, code: str, message: str, severity: Severity = ERROR) -> None:
        self.diagnostics.append(Diagnostic(block_id, severity, code, message))


def validate(graph: Graph, batch_size: int = 1, memory_limit: int | str | None = None) -> Report:
    """Check the whole graph and infer every shape that can be inferred.

    The memory the model needs for ``batch_size`` samples is estimated from the shapes
    (:mod:`builder.resources`); above ``memory_limit`` (default: a fraction of this machine's
    memory, or ``SKIPWIRE_MEMORY_LIMIT``) the largest block gets a ``too_large`` error, so
    compile, export and training refuse the graph before allocating anything.
    """
    report = Report()
    _check_io(graph, report)
    order = report.order = graph.topological_order()
    _report_cycles(graph, set(graph.nx) - set(order), report)
    for block_id in order:
        _infer_block(graph, graph.block(block_id), report)
    useful = _check_reach(graph, report)
    _check_memory(graph, report, useful, batch_size, memory_limit)
    return report


def _check_io(graph: Graph, report: Report) -> None:
    for type_id, label in (("input", "Input"), ("output", "Output")):
        found = [b.id for b in graph.blocks() if b.type == type_id]
        if not found:
            report.add("", f"no_{type_id}", f"the graph has no {label} block; add one from the palette")
        for extra in found[1:]:
            report.add(extra, f"multiple_{type_id}s",
                       f"only one {label} block is allowed ('{found[0]}' is the first); remove this one")


def reach(adjacency: dict[str, dict[str, object]], starts: list[str]) -> set[str]:
    """Blocks reachable from ``starts`` (included) along ``adjacency``."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        for nxt in adjacency[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _report_cycles(graph: Graph, stuck: set[str], report: Report) -> None:
    if not stuck:
        return
    sub = graph.nx.subgraph(stuck)
    for component in nx.strongly_connected_components(sub):
        if len(component) > 1 or sub.has_edge(next(iter(component)), next(iter(component))):
            members = sorted(component)
            ring = " → ".join(members[:6]) + (" …" if len(members) > 6 else "")
            for block_id in members:
                report.add(block_id, "cycle", f"part of a cycle ({ring}); remove one of its wires")


def _param_errors(block: Block, report: Report) -> bool:
    bad = False
    for param in block.spec.params:
        problem = param.range_error(block.params.get(param.name))
        if problem:
            report.add(block.id, "bad_param", problem)
            bad = True
    return bad


def _port_errors(graph: Graph, block: Block, report: Report) -> list[str] | None:
    """Source ids in port order, or None (after reporting) when ports are wrong."""
    spec, wired = block.spec, graph.inputs_of(block.id)
    if spec.arity is None:
        need = max(2, max(wired, default=-1) + 1)
    else:
        need = spec.arity
        for port in sorted(p for p in wired if p >= need):
            report.add(block.id, "extra_input",
                       f"{spec.label} has {need} input(s) but a wire from '{wired[port]}' goes to "
                       f"port {port}; remove that wire")
    missing = [p for p in range(need) if p not in wired]
    for port in missing:
        what = "needs at least two inputs" if spec.arity is None and len(wired) < 2 else "is not wired"
        report.add(block.id, "missing_input", f"input {port} of {spec.label} {what}; "
                   "drag a wire into it")
    if missing or (spec.arity is not None and len(wired) > need):
        return None
    return [wired[p] for p in range(need)]


def _infer_block(graph: Graph, block: Block, report: Report) -> None:
    sources = _port_errors(graph, block, report)
    if _param_errors(block, report) or sources is None:
        return
    if any(src not in report.shapes for src in sources):
        return  # an upstream problem is already reported
    inputs = [(src, report.shapes[src]) for src in sources]
    try:
        report.shapes[block.id] = block.spec.infer(block.params, inputs)
    except ShapeError as exc:
        report.add(block.id, exc.code, exc.message)


def _check_reach(graph: Graph, report: Report) -> set[str] | None:
    """Warn about blocks off the Input → Output path; returns the blocks that reach the Output."""
    g = graph.nx
    inputs = [b.id for b in graph.blocks() if b.type == "input"]
    outputs = [b.id for b in graph.blocks() if b.type == "output"]
    if inputs:
        reached = reach(g._succ, inputs)
        flagged = {d.block_id for d in report.diagnostics if d.code in ("missing_input", "cycle")}
        for block_id in g.nodes:
            if block_id not in reached and block_id not in flagged:
                report.add(block_id, "unreachable",
                           "no path from the Input reaches this block; wire it into the network",
                           WARNING)
    if outputs:
        useful = reach(g._pred, outputs)
        for block_id in g.nodes:
            if block_id not in useful:
                report.add(block_id, "unused",
                           "its output never reaches the Output, so it is left out of the model",
                           WARNING)
        return useful
    return None


def _check_memory(graph: Graph, report: Report, useful: set[str] | None, batch_size: int,
                  memory_limit: int | str | None) -> None:
    try:
        limit = resources.memory_limit(memory_limit)
    except resources.LimitError as exc:
        if memory_limit is not None:
            raise
        report.add("", "memory_setting", f"{exc}; using the default limit", WARNING)
        limit = resources.memory_limit(use_env=False)
    ids = report.order if useful is None else [b for b in report.order if b in useful]
    blocks = []
    for block_id in ids:
        if block_id in report.shapes:
            block = graph.block(block_id)
            count = block.spec.parameters(block.params, input_shapes(graph, report, block_id))
            report.params[block_id] = count
            blocks.append((block_id, block.type, count))
    est = resources.estimate(blocks, report.shapes, batch_size)
    if est.total > limit.bytes:
        largest = est.largest()
        report.add(largest, "too_large", resources.too_large_message(est, limit, largest))


def input_shapes(graph: Graph, report: Report, block_id: str) -> list[Shape]:
    """The inferred shapes feeding ``block_id``, in port order (a validated block)."""
    return [report.shapes[src] for _, src in sorted(graph.inputs_of(block_id).items())]


def shape_text(report: Report, block_id: str) -> str:
    """The inferred output shape of a block as text (``?`` when unknown)."""
    return fmt_shape(report.shapes.get(block_id))


def parameterised(graph: Graph) -> list[str]:
    """Blocks with weights (Conv2d, BatchNorm2d, Linear…, as their catalog entries say), in
    topological order."""
    return [b for b in graph.topological_order() if (block := graph.block(b)).spec.has_weights(block.params)]
