"""Fix-its: planned repairs for diagnostics, as lists of core graph operations (Qt-free).

For an Add whose inputs disagree (``add_shape_mismatch``) two repairs are offered, as in
He et al. 2015 (§3.3): option A inserts a parameter-free ShortcutPad (subsample by stride,
zero-pad the new channels) on the skip input; option B inserts a 1×1 Conv2d with the same
stride (no bias) and a BatchNorm2d. The skip input is the one whose shape must change: the
reference is the input with the smallest spatial size (a stride can shrink a map, nothing
here enlarges one), then the most channels; every other input is transformed to it. Option
A is offered only when no skip input has more channels than the reference (padding cannot
remove channels).

New blocks go in a lane under the Add that overlaps nothing and keeps every group frame
holding exactly its blocks; where there is no room, the plan first moves the rows below down.

A plan is data (``add_block``, ``connect``, ``disconnect`` and ``move`` operations): the GUI
applies it as one undo macro of commands, tests apply it with :func:`apply` directly on a
graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from builder.catalog import Shape, fmt_shape
from builder.geometry import Geometry, clashes
from builder.graph import Graph
from builder.layout import (
    BLOCK_H,
    BLOCK_W,
    DX,
    FRAME_LABEL_H,
    FRAME_PAD,
    GAP_Y,
    GRID,
    ITEM_PAD_Y,
    Rect,
    block_height,
)
from builder.validate import Report, validate

LANE = BLOCK_H + 2 * ITEM_PAD_Y + GAP_Y + 2 * FRAME_PAD  # pitch between two inserted chains


@dataclass(frozen=True)
class Op:
    """One core mutation: ``add_block``, ``connect``, ``disconnect`` or ``move`` with its arguments."""

    kind: Literal["add_block", "connect", "disconnect", "move"]
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
    """Fresh ids, and a free lane under the Add for the blocks a plan inserts.

    The lane runs under the Add's columns (a block one column back per step of the chain).
    It must overlap no block and leave every group frame holding exactly its blocks (the
    new blocks join the Add's group, so its frame grows). Where no lane close below is free,
    the blocks below the Add's row move down to make room (a ``move`` operation).
    """

    def __init__(self, graph: Graph, add_id: str) -> None:
        self.graph = graph
        self.add = graph.block(add_id)
        self.prefix = self.add.group.replace(".", "_") + "_" if self.add.group else ""
        self.ids = set(graph.ids())
        self.lanes: list[list[tuple[str, str, dict[str, Any]]]] = []  # (type, id, params) per chain

    def new_id(self, local: str) -> str:
        candidate, n = self.prefix + local, 1
        while candidate in self.ids:
            candidate = f"{self.prefix}{local}{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def chain(self, *blocks: tuple[str, str, dict[str, Any]]) -> list[str]:
        """Plan one chain of (type, local name, params); returns the new ids."""
        lane = [(type_id, self.new_id(local), params) for type_id, local, params in blocks]
        self.lanes.append(lane)
        return [block_id for _, block_id, _ in lane]

    def _boxes(self, top: float) -> dict[str, tuple[Rect, str]]:
        """The new blocks' boxes with the first lane at ``top`` (one lane per chain)."""
        x_add, boxes = self.add.pos[0], {}
        for i, lane in enumerate(self.lanes):
            y = top + i * LANE
            for j, (type_id, block_id, _) in enumerate(lane):
                x = x_add - (len(lane) - j) * DX
                boxes[block_id] = ((x, y, x + BLOCK_W, y + block_height(type_id, (0,))), self.add.group)
        return boxes

    def place(self) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
        """Positions of the new blocks, and the moves (maybe none) that make room for them."""
        before = set(clashes(Geometry(self.graph)))
        add_box = Geometry(self.graph).boxes[self.add.id]
        top = snap(add_box[3] + 2 * ITEM_PAD_Y + GAP_Y)
        for k in range(8):  # a free lane close below the Add?
            boxes = self._boxes(top + k * GRID)
            if set(clashes(Geometry(self.graph, extra=boxes))) <= before:
                return _corners(boxes), {}
        below = {b.id: b.pos for b in self.graph.blocks() if b.pos[1] > self.add.pos[1]}
        boxes = self._boxes(top)
        need = max(r[3] for r, _ in boxes.values()) - min((p[1] for p in below.values()), default=top)
        for k in range(12):  # push the rows below down until nothing clashes
            dy = snap(max(0.0, need) + GAP_Y + FRAME_PAD + FRAME_LABEL_H + 2 * ITEM_PAD_Y + k * LANE)
            moves = {b: (x, y + dy) for b, (x, y) in below.items()}
            positions = {b.id: moves.get(b.id, b.pos) for b in self.graph.blocks()}
            if set(clashes(Geometry(self.graph, positions, boxes))) <= before:
                return _corners(boxes), moves
        return _corners(boxes), moves

    def ops(self) -> tuple[list[Op], dict[str, Op]]:
        """The ``move`` operations (if any) and each new block's ``add_block`` operation."""
        spots, moves = self.place()
        adds = {block_id: Op("add_block", {"type_id": type_id, "params": params, "pos": spots[block_id],
                                           "block_id": block_id, "group": self.add.group})
                for lane in self.lanes for type_id, block_id, params in lane}
        return ([Op("move", {"moves": moves})] if moves else []), adds


def snap(y: float) -> float:
    """``y`` rounded up to the canvas grid."""
    return -(-y // GRID) * GRID


def _corners(boxes: dict[str, tuple[Rect, str]]) -> dict[str, tuple[float, float]]:
    return {b: (r[0], r[1]) for b, (r, _) in boxes.items()}


def _option_a(graph: Graph, add_id: str, wired: dict[int, str], strides: dict[int, int],
              out: int) -> FixIt:
    place = _Placer(graph, add_id)
    chains = {port: place.chain(("shortcut_pad", "shortcut", {"stride": stride, "out_channels": out}))
              for port, stride in strides.items()}
    moves, adds = place.ops()
    ops = list(moves)
    for port, ids in chains.items():
        ops += _reroute(wired[port], [adds[b] for b in ids], add_id, port)
    return FixIt("shortcut_pad", "Insert ShortcutPad (option A, no parameters)", add_id, ops)


def _option_b(graph: Graph, add_id: str, wired: dict[int, str], strides: dict[int, int],
              out: int) -> FixIt:
    place = _Placer(graph, add_id)
    chains = {port: place.chain(("conv2d", "conv_shortcut", {"out_channels": out, "kernel_size": 1,
                                                              "stride": stride, "padding": 0, "bias": False}),
                                ("batchnorm2d", "bn_shortcut", {}))
              for port, stride in strides.items()}
    moves, adds = place.ops()
    ops = list(moves)
    for port, ids in chains.items():
        ops += _reroute(wired[port], [adds[b] for b in ids], add_id, port)
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
        if op.kind == "move":
            for block_id, pos in a["moves"].items():
                graph.move(block_id, pos)
        elif op.kind == "add_block":
            graph.add_block(a["type_id"], a["params"], a["pos"], a["block_id"], a["group"])
        elif op.kind == "connect":
            graph.connect(a["source"], a["target"], a["port"])
        elif op.kind == "disconnect":
            graph.disconnect(a["target"], a["port"])
        else:
            raise ValueError(f"unknown fix-it operation {op.kind!r}")
