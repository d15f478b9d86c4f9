"""Layered auto-layout by groups: every group a box of its own, parallel branches in lanes.

The canvas measures (block size, ports, grid, frame margins) live here, the one home the
canvas, the fix-its and the geometry checks import them from.

A group path (``layer1.0``) is laid out as one rectangle holding exactly its blocks and its
sub-groups, so the frame the canvas draws around it never encloses a foreign block. Inside a
group the *units* (its own blocks and its child groups, each already laid out as a box) flow
left to right in columns by longest-path depth; a unit a box wide spans several columns.
Columns wrap into rows of at most ``max_columns``. Within a row, maximal chains of units (one
feeds the next and nothing else) are placed as rigid lanes: the chain on the longest path
first (the main path of a residual block), every other chain in the first lane below that is
free, so parallel branches (a projection shortcut, an Inception branch) are parallel lanes.
Every block sits on the column pitch :data:`DX` horizontally and on the snap grid
:data:`GRID` vertically.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from builder import catalog
from builder.graph import Graph

BLOCK_W = 170.0  # a block's box on the canvas
BLOCK_H = 60.0  # its least height (Add/Concat grow with their ports)
PORT_GAP = 18.0  # vertical distance between two input ports
PORT_R = 4.5  # a port's radius
ITEM_PAD_X = PORT_R + 2.0  # a block item reaches this far left and right of its box (ports)
ITEM_PAD_Y = 6.0  # ... and this far above and below (the selection ring)
FRAME_PAD = 10.0  # a group frame's margin around its blocks
FRAME_LABEL_H = 16.0  # the name strip at a frame's top
FRAME_LABEL_W = 240.0  # ... at most this wide (wires go around it)
GRID = 20.0  # the snap grid: dropped and moved blocks land on multiples of it
DX = 240.0  # column pitch: a block and a 70 px gap for wires and their shape labels
GAP_Y = 28.0  # least space between two lanes' boxes (wires run there)
ROW_GAP = 40.0  # space between wrapped rows (wires run back to the next row's start)
MIN_GAP_X = 24.0  # least space between two boxes side by side (a wire turns there)

Rect = tuple[float, float, float, float]  # left, top, right, bottom
Unit = tuple[str, str]  # ("b", block id) or ("g", group path)


def input_port_count(type_id: str, wired_ports: Iterable[int]) -> int:
    """Ports drawn on a block: the arity, or for Add/Concat one free port beyond the wired ones."""
    last = max(wired_ports, default=-1)
    arity = catalog.get(type_id).arity
    if arity is not None:
        return max(arity, last + 1)
    return max(2, last + 2)


def block_height(type_id: str, wired_ports: Iterable[int]) -> float:
    """The height of a block's box: room for its input ports."""
    return max(BLOCK_H, 16.0 + input_port_count(type_id, wired_ports) * PORT_GAP)


def heights(graph: Graph) -> dict[str, float]:
    """The drawn height of every block of ``graph``."""
    return {b.id: block_height(b.type, graph.inputs_of(b.id)) for b in graph.blocks()}


def _snap_up(y: float) -> float:
    return -(-y // GRID) * GRID


def _shift(rect: Rect, dx: float, dy: float) -> Rect:
    return (rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy)


def _union(a: Rect | None, b: Rect) -> Rect:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _clash(a: Rect, b: Rect, gap_x: float, gap_y: float) -> bool:
    return a[0] < b[2] + gap_x and b[0] < a[2] + gap_x and a[1] < b[3] + gap_y and b[1] < a[3] + gap_y


@dataclass
class Box:
    """A laid-out unit: block positions and the drawn extent, relative to its origin.

    The origin is the top-left of the box's first column: a block unit's own position.
    """

    pos: dict[str, tuple[float, float]]
    extent: Rect
    span: int  # columns it covers
    tall: bool = False  # it wrapped into rows (somewhere inside): nothing goes beside it

    @property
    def left_overhang(self) -> float:
        return -self.extent[0]

    @property
    def right_overhang(self) -> float:
        return self.extent[2] - ((self.span - 1) * DX + BLOCK_W)


@dataclass
class _Level:
    """The units of one group and the wires between them (as unit edges)."""

    units: list[Unit]
    index: dict[Unit, int]
    succ: dict[Unit, list[Unit]] = field(default_factory=dict)
    pred: dict[Unit, list[Unit]] = field(default_factory=dict)


class _Layout:
    """One layout run over a graph: its order, heights and group tree."""

    def __init__(self, graph: Graph, max_columns: int) -> None:
        self.graph = graph
        self.max_columns = max(1, max_columns)
        order = graph.topological_order()
        placed = set(order)
        order += [b for b in graph.ids() if b not in placed]  # blocks on or after a cycle, last
        self.rank = {b: i for i, b in enumerate(order)}
        self.height = heights(graph)
        self.groups = {b.id: b.group for b in graph.blocks()}

    def unit_of(self, block_id: str, group: str) -> Unit:
        """The unit standing for ``block_id`` inside ``group`` (the block, or a child group)."""
        own = self.groups[block_id]
        if own == group:
            return ("b", block_id)
        rest = own[len(group) + 1:] if group else own
        return ("g", (group + "." if group else "") + rest.split(".")[0])

    def members(self, group: str) -> list[str]:
        prefix = group + "."
        return [b for b, g in self.groups.items() if not group or g == group or g.startswith(prefix)]

    def level(self, group: str) -> _Level:
        blocks = self.members(group)
        inside = set(blocks)
        index: dict[Unit, int] = {}
        for b in blocks:
            unit = self.unit_of(b, group)
            index[unit] = min(index.get(unit, len(self.rank)), self.rank[b])
        level = _Level(sorted(index, key=index.__getitem__), index)
        level.succ = {u: [] for u in level.units}
        level.pred = {u: [] for u in level.units}
        for b in blocks:
            for target in self.graph.nx.successors(b):
                if target in inside:
                    a, c = self.unit_of(b, group), self.unit_of(target, group)
                    if a != c and c not in level.succ[a]:
                        level.succ[a].append(c)
                        level.pred[c].append(a)
        return level

    # ------------------------------------------------------------------ boxes
    def box(self, unit: Unit) -> Box:
        kind, name = unit
        if kind == "b":
            extent = (-ITEM_PAD_X, -ITEM_PAD_Y, BLOCK_W + ITEM_PAD_X, self.height[name] + ITEM_PAD_Y)
            return Box({name: (0.0, 0.0)}, extent, 1)
        inner = self.group_box(name)
        left, top, right, bottom = inner.extent
        framed = (left - FRAME_PAD, top - FRAME_PAD - FRAME_LABEL_H, right + FRAME_PAD, bottom + FRAME_PAD)
        return Box(inner.pos, framed, inner.span, inner.tall)

    def group_box(self, group: str) -> Box:
        """The content of ``group`` laid out (its own frame not included)."""
        level = self.level(group)
        boxes = {u: self.box(u) for u in level.units}
        order = _topological(level)
        col = _columns(level, order, boxes)
        starts = _row_starts(col, boxes, self.max_columns)
        return _place_rows(level, order, boxes, col, starts)


def _topological(level: _Level) -> list[Unit]:
    """Units in wire order; ties and cycles are broken by the blocks' global order."""
    indeg = {u: len(level.pred[u]) for u in level.units}
    ready = [(level.index[u], u) for u in level.units if indeg[u] == 0]
    heapq.heapify(ready)
    done: set[Unit] = set()
    order: list[Unit] = []
    while len(order) < len(level.units):
        if not ready:  # a cycle: take the earliest unit left
            unit = min((u for u in level.units if u not in done), key=level.index.__getitem__)
            ready.append((level.index[unit], unit))
        _, unit = heapq.heappop(ready)
        if unit in done:
            continue
        done.add(unit)
        order.append(unit)
        for nxt in level.succ[unit]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0 and nxt not in done:
                heapq.heappush(ready, (level.index[nxt], nxt))
    return order


def _columns(level: _Level, order: list[Unit], boxes: dict[Unit, Box]) -> dict[Unit, int]:
    """Longest-path column of each unit; an extra column where two frames would touch."""
    room = DX - BLOCK_W - MIN_GAP_X
    col: dict[Unit, int] = {}
    for unit in order:
        c = 0
        for p in level.pred[unit]:
            if p in col:
                overhang = boxes[p].right_overhang + boxes[unit].left_overhang
                extra = max(0, int(-(-(overhang - room) // DX)))
                c = max(c, col[p] + boxes[p].span + extra)
        col[unit] = c
    return col


def _row_starts(col: dict[Unit, int], boxes: dict[Unit, Box], max_columns: int) -> list[int]:
    """The first column of each row: cuts only where no unit spans the boundary.

    A tall unit (one that wrapped into rows) has a row of its own: the flow continues below it.
    """
    total = max(col[u] + boxes[u].span for u in col)
    crossed = {b for u in col for b in range(col[u] + 1, col[u] + boxes[u].span)}
    forced = {b for u in col if boxes[u].tall for b in (col[u], col[u] + boxes[u].span)}
    starts = [0]
    previous = 0
    for cut in [b for b in range(1, total) if b not in crossed] + [total]:
        if cut - starts[-1] > max_columns and previous > starts[-1]:
            starts.append(previous)
        if (cut - starts[-1] > max_columns or cut in forced) and cut < total and cut > starts[-1]:
            starts.append(cut)
        previous = cut
    return starts


def _chains(level: _Level, units: list[Unit], row_of: dict[Unit, int]) -> list[list[Unit]]:
    """Maximal runs of units where each feeds only the next and the next is fed only by it."""
    def links(u: Unit) -> Unit | None:
        if len(level.succ[u]) != 1:
            return None
        v = level.succ[u][0]
        ok = len(level.pred[v]) == 1 and row_of.get(v) == row_of[u]
        return v if ok else None

    heads = [u for u in units if not any(links(p) == u for p in level.pred[u] if p in row_of)]
    chains: list[list[Unit]] = []
    covered: set[Unit] = set()
    for head in heads + units:  # then whatever a cycle of single links left over
        if head in covered:
            continue
        chain = [head]
        nxt = links(head)
        while nxt is not None and nxt not in chain and nxt not in covered:
            chain.append(nxt)
            nxt = links(nxt)
        covered.update(chain)
        chains.append(chain)
    return chains


def _critical(level: _Level, order: list[Unit], col: dict[Unit, int],
              boxes: dict[Unit, Box]) -> set[Unit]:
    """Units on a longest path of the level (the main path)."""
    tail: dict[Unit, int] = {}
    for unit in reversed(order):
        after = [tail[s] for s in level.succ[unit] if s in tail and col[s] > col[unit]]
        tail[unit] = boxes[unit].span + max(after, default=0)
    best = max(col[u] + tail[u] for u in order)
    return {u for u in order if col[u] + tail[u] == best}


class _Packer:
    """Places chains of one row at the first free height (chains are rigid lanes)."""

    def __init__(self, top: float) -> None:
        self.top = top
        self.taken: list[Rect] = []
        self.drawn: list[Rect] = []

    def place(self, chain: list[tuple[float, Box]]) -> float:
        """The y of ``chain`` (units at x with their boxes); marks its space as taken."""
        lowest = self.top - min(box.extent[1] for _, box in chain)
        candidates = {lowest} | {r[3] + GAP_Y - box.extent[1] for r in self.taken for _, box in chain}
        for y in sorted(_snap_up(c) for c in candidates if c >= lowest):
            rects = [_shift(box.extent, x, y) for x, box in chain]
            if not any(_clash(a, b, MIN_GAP_X, GAP_Y) for a in rects for b in self.taken):
                break
        self.drawn += rects
        corridors = [(a[2], y, b[0], y + BLOCK_H) for a, b in zip(rects, rects[1:], strict=False)]
        self.taken += rects + [c for c in corridors if c[2] > c[0]]
        return y

    def bottom(self) -> float:
        return max(r[3] for r in self.drawn)


def _place_rows(level: _Level, order: list[Unit], boxes: dict[Unit, Box], col: dict[Unit, int],
                starts: list[int]) -> Box:
    row_of = {u: max(i for i, s in enumerate(starts) if col[u] >= s) for u in order}
    critical = _critical(level, order, col, boxes)
    rank = {u: i for i, u in enumerate(order)}
    chains = _chains(level, order, row_of)
    chains.sort(key=lambda c: (row_of[c[0]], not any(u in critical for u in c), rank[c[0]]))
    pos: dict[str, tuple[float, float]] = {}
    extent: Rect | None = None
    top, row, packer = 0.0, 0, _Packer(0.0)
    for chain in chains:
        if row_of[chain[0]] != row:
            top = _snap_up(packer.bottom() + ROW_GAP)
            row, packer = row_of[chain[0]], _Packer(top)
        xs = [(col[u] - starts[row]) * DX for u in chain]
        y = packer.place([(x, boxes[u]) for x, u in zip(xs, chain, strict=True)])
        for x, unit in zip(xs, chain, strict=True):
            box = boxes[unit]
            extent = _union(extent, _shift(box.extent, x, y))
            for block_id, (bx, by) in box.pos.items():
                pos[block_id] = (bx + x, by + y)
    span = max(col[u] - starts[row_of[u]] + boxes[u].span for u in order)
    assert extent is not None
    return Box(pos, extent, span, len(starts) > 1 or any(boxes[u].tall for u in order))


def layout(graph: Graph, max_columns: int = 10) -> dict[str, tuple[float, float]]:
    """New canvas positions for every block (the graph is not changed)."""
    if not len(graph.ids()):
        return {}
    box = _Layout(graph, max_columns).group_box("")
    top = min(y for _, y in box.pos.values())  # the first row starts at y = 0
    return {b: (float(x), float(y - top)) for b, (x, y) in box.pos.items()}


def apply_layout(graph: Graph, max_columns: int = 10) -> None:
    """Move every block to its laid-out position (through ``Graph.move``)."""
    for block_id, pos in layout(graph, max_columns).items():
        if graph.block(block_id).pos != pos:
            graph.move(block_id, pos)
