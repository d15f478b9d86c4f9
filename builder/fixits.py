"""Fix-its: planned repairs for diagnostics, as lists of core graph operations (Qt-free).

For an Add whose inputs disagree (``add_shape_mismatch``) two repairs are offered, as in
He et al. 2015 (§3.3): option A inserts a parameter-free ShortcutPad (subsample by stride,
zero-pad the new channels) on the skip input; option B inserts a 1×1 Conv2d with the same
stride (no bias) and a BatchNorm2d. The skip input is the one whose shape must change: the
reference is the input with the smallest spatial size (a stride can shrink a map, nothing
here enlarges one), then the most channels; every other input is transformed to it. Option
A is offered only when no skip input has more channels than the reference (padding cannot
remove channels).

A plan is data: the GUI applies it as one undo macro of commands, tests apply it with
:func:`apply` directly on a graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from builder.catalog import Shape, fmt_shape
from builder.graph import Graph
from builder.layout import DX, LANE
from builder.validate import Report, validate

BLOCK_SIZE = (170.0, 60.0)  # the canvas block size, to place new blocks without overlap


@dataclass(frozen=True)
class Op:
    """One core mutation: ``add_block``, ``connect`` or ``disconnect`` with its arguments."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class FixIt:
    """A named repair for one block."""

    code: str  # "shortcut_pad" or "projection"
    title: str  # menu text
    block_id: str
    ops: list[Op]


def skip_ports(shapes: dict[int, Shape]) -> tuple[Shape, dict[int, Shape]] | None:
    """The reference shape and ``{port: shape}`` of the inputs that must be transformed.

    None when the inputs are not all C×H×W or already agree.
    """
    if len(shapes) < 2 or any(len(s) != 3 for s in shapes.values()):
        return None
    reference = max(shapes.values(), key=lambda s: (-s[1] * s[2], s[0]))
    skips = {p: s for p, s in shapes.items() if s != reference}
    return (reference, skips) if skips else None


def stride_between(source: Shape, target: Shape) -> int | None:
    """The stride that maps ``source``'s H×W onto ``target``'s (ceil division), if any."""
    for stride in range(1, max(source[1], source[2]) + 1):
        if -(-source[1] // stride) == target[1] and -(-source[2] // stride) == target[2]:
            return stride
    return None


def plan(graph: Graph, block_id: str, report: Report | None = None) -> list[FixIt]:
    """Fix-its for ``block_id`` (empty unless it is an Add with ``add_shape_mismatch``)."""
    report = report or validate(graph)
    if graph.block(block_id).type != "add":
        return []
    if not any(d.code == "add_shape_mismatch" for d in report.for_block(block_id)):
        return []
    wired = graph.inputs_of(block_id)
    shapes = {p: report.shapes[s] for p, s in wired.items() if s in report.shapes}
    found = skip_ports(shapes)
    if found is None:
        return []
    reference, skips = found
    strides = {p: stride_between(s, reference) for p, s in skips.items()}
    if any(v is None for v in strides.values()):
        return []
    out = reference[0]
    fixes = []
    if all(s[0] <= out for s in skips.values()):
        fixes.append(_option_a(graph, block_id, wired, strides, out))  # type: ignore[arg-type]
    fixes.append(_option_b(graph, block_id, wired, strides, out))  # type: ignore[arg-type]
    what = ", ".join(f"{fmt_shape(s)}" for s in skips.values())
    for fix in fixes:
        fix.title += f" ({what} → {fmt_shape(reference)})"
    return fixes


class _Placer:
    """Fresh ids and free positions for the blocks a plan adds."""

    def __init__(self, graph: Graph, add_id: str) -> None:
        self.graph = graph
        self.add = graph.block(add_id)
        self.prefix = self.add.group.replace(".", "_") + "_" if self.add.group else ""
        self.ids = set(graph.ids())
        self.spots = [b.pos for b in graph.blocks()]

    def new_id(self, local: str) -> str:
        candidate, n = self.prefix + local, 1
        while candidate in self.ids:
            candidate = f"{self.prefix}{local}{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def free_pos(self, columns_back: int) -> tuple[float, float]:
        x = self.add.pos[0] - columns_back * DX
        y = self.add.pos[1] + LANE
        while any(abs(x - px) < BLOCK_SIZE[0] and abs(y - py) < BLOCK_SIZE[1] for px, py in self.spots):
            y += LANE
        self.spots.append((x, y))
        return (x, y)

    def add_op(self, type_id: str, local: str, params: dict[str, Any], columns_back: int) -> Op:
        return Op("add_block", {"type_id": type_id, "params": params, "pos": self.free_pos(columns_back),
                                "block_id": self.new_id(local), "group": self.add.group})


def _option_a(graph: Graph, add_id: str, wired: dict[int, str], strides: dict[int, int],
              out: int) -> FixIt:
    place = _Placer(graph, add_id)
    ops: list[Op] = []
    for port, stride in strides.items():
        new = place.add_op("shortcut_pad", "shortcut", {"stride": stride, "out_channels": out}, 1)
        ops += _reroute(wired[port], [new], add_id, port)
    return FixIt("shortcut_pad", "Insert ShortcutPad (option A, no parameters)", add_id, ops)


def _option_b(graph: Graph, add_id: str, wired: dict[int, str], strides: dict[int, int],
              out: int) -> FixIt:
    place = _Placer(graph, add_id)
    ops: list[Op] = []
    for port, stride in strides.items():
        conv = place.add_op("conv2d", "conv_shortcut", {"out_channels": out, "kernel_size": 1,
                                                        "stride": stride, "padding": 0, "bias": False}, 2)
        bn = place.add_op("batchnorm2d", "bn_shortcut", {}, 1)
        ops += _reroute(wired[port], [conv, bn], add_id, port)
    return FixIt("projection", "Insert 1×1 Conv2d + BatchNorm2d projection (option B)", add_id, ops)


def _reroute(source: str, chain: list[Op], add_id: str, port: int) -> list[Op]:
    """Disconnect ``source → add``, add the chain's blocks, wire source → chain → add."""
    ops = [Op("disconnect", {"target": add_id, "port": port}), *chain]
    previous = source
    for new in chain:
        block_id = new.args["block_id"]
        ops.append(Op("connect", {"source": previous, "target": block_id, "port": 0}))
        previous = block_id
    ops.append(Op("connect", {"source": previous, "target": add_id, "port": port}))
    return ops


def apply(graph: Graph, fix: FixIt) -> None:
    """Apply a fix-it's operations directly to ``graph`` (the GUI uses undo commands instead)."""
    for op in fix.ops:
        a = op.args
        if op.kind == "add_block":
            graph.add_block(a["type_id"], a["params"], a["pos"], a["block_id"], a["group"])
        elif op.kind == "connect":
            graph.connect(a["source"], a["target"], a["port"])
        elif op.kind == "disconnect":
            graph.disconnect(a["target"], a["port"])
        else:
            raise ValueError(f"unknown fix-it operation {op.kind!r}")
