"""What the canvas draws, computed without Qt, and the invariants a layout must keep.

Block boxes and items, group frames (innermost first, each enclosing its blocks' items and
its sub-groups' frames, exactly as the canvas draws them), ports, and wire routes (see
:mod:`builder.routing`). :func:`problems` lists every broken invariant of a set of positions:

- no block overlaps another;
- a group frame holds exactly its group's blocks: no other block's item touches it, and the
  frames of two groups that do not nest do not overlap;
- no wire passes through a block it does not connect;
- parallel branches are lanes: the blocks of a chain that leaves a fork (one feeding the
  next, in one group and one row) share one height, and two chains leaving the same fork
  never share a height where they run side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from builder.graph import Graph
from builder.layout import (
    BLOCK_W,
    FRAME_LABEL_H,
    FRAME_LABEL_W,
    FRAME_PAD,
    ITEM_PAD_X,
    ITEM_PAD_Y,
    PORT_GAP,
    Rect,
    block_height,
    input_port_count,
)
from builder.routing import Obstacles, Point, crossed, route

Positions = dict[str, tuple[float, float]]


@lru_cache(maxsize=4096)
def parents(group: str) -> tuple[str, ...]:
    """``layer2.0`` → ``("layer2", "layer2.0")`` (outermost first)."""
    if not group:
        return ()
    parts = group.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))


def passed_frames(source_group: str, target_group: str) -> list[str]:
    """Groups a wire leaves or enters (around one end, not both)."""
    a, b = set(parents(source_group)), set(parents(target_group))
    return sorted(a ^ b)


def label_strip(frame: Rect) -> Rect:
    """A frame's name strip (▾ and name) at its top-left: wires go around it when they can."""
    return (frame[0], frame[1], min(frame[2], frame[0] + FRAME_LABEL_W), frame[1] + FRAME_LABEL_H + 2)


def overlap(a: Rect, b: Rect) -> bool:
    """True when the two rectangles share inner area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inflate(rect: Rect, dx: float, dy: float, top: float | None = None) -> Rect:
    return (rect[0] - dx, rect[1] - (dy if top is None else top), rect[2] + dx, rect[3] + dy)


class Geometry:
    """The drawn shapes of one graph at given positions (the graph's own by default)."""

    def __init__(self, graph: Graph, positions: Positions | None = None,
                 extra: dict[str, tuple[Rect, str]] | None = None) -> None:
        """``extra``: boxes of blocks about to be added, with their groups (id → (box, group))."""
        self.graph = graph
        self.pos = {b.id: b.pos for b in graph.blocks()} if positions is None else dict(positions)
        self.inputs = {b: graph.inputs_of(b) for b in graph.ids()}
        self.ports = {b.id: input_port_count(b.type, self.inputs[b.id]) for b in graph.blocks()}
        self.groups = {b.id: b.group for b in graph.blocks()}
        self.boxes: dict[str, Rect] = {}
        for b in graph.ids():
            x, y = self.pos[b]
            self.boxes[b] = (x, y, x + BLOCK_W, y + block_height(graph.block(b).type, self.inputs[b]))
        for block_id, (box, group) in (extra or {}).items():
            self.boxes[block_id] = box
            self.groups[block_id] = group

    def item(self, block_id: str) -> Rect:
        """A block item's extent: its box, its ports and the selection ring."""
        return inflate(self.boxes[block_id], ITEM_PAD_X, ITEM_PAD_Y)

    def frames(self) -> dict[str, Rect]:
        """Every group's frame, as the canvas draws it."""
        rects: dict[str, Rect] = {}
        paths: set[str] = set()
        for block_id, group in self.groups.items():
            paths.update(parents(group))
            if group:
                rects[group] = _union(rects.get(group), self.item(block_id))
        frames: dict[str, Rect] = {}
        for group in sorted(paths, key=lambda g: -g.count(".")):
            if group not in rects:
                continue
            frame = inflate(rects[group], FRAME_PAD, FRAME_PAD, FRAME_PAD + FRAME_LABEL_H)
            frames[group] = frame
            parent = group.rpartition(".")[0]
            if parent:
                rects[parent] = _union(rects.get(parent), frame)
        return frames

    def output_port(self, block_id: str) -> Point:
        box = self.boxes[block_id]
        return (box[2], (box[1] + box[3]) / 2)

    def input_port(self, block_id: str, port: int) -> Point:
        box = self.boxes[block_id]
        top = ((box[3] - box[1]) - (self.ports[block_id] - 1) * PORT_GAP) / 2
        return (box[0], box[1] + top + port * PORT_GAP)

    def obstacles(self) -> Obstacles:
        """What wires go around: the block boxes, and (softly) the frames' name strips."""
        obstacles = Obstacles()
        for block_id, box in self.boxes.items():
            obstacles.put(block_id, box)
        for group, frame in self.frames().items():
            obstacles.put(("label", group), label_strip(frame), soft=True)
        return obstacles

    def routes(self) -> dict[tuple[str, int], list[Point]]:
        """Each wire's route, keyed by (target, port), in the graph's wire order."""
        obstacles = self.obstacles()
        frames = self.frames()
        out = {}
        for w in self.graph.wires():
            avoid = [frames[g] for g in passed_frames(self.groups[w.source], self.groups[w.target])]
            out[(w.target, w.port)] = route(self.output_port(w.source), self.input_port(w.target, w.port),
                                            obstacles, w.source, w.target, w.port, avoid)
        return out


def _union(a: Rect | None, b: Rect) -> Rect:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def problems(graph: Graph, positions: Positions | None = None,
             routes: dict[tuple[str, int], list[Point]] | None = None) -> list[str]:
    """Every broken layout invariant, one sentence each (empty: the picture does not mislead)."""
    geo = Geometry(graph, positions)
    found = clashes(geo)
    found += _wire_problems(geo, geo.routes() if routes is None else routes)
    return found + _lane_problems(geo)


def clashes(geo: Geometry) -> list[str]:
    """Blocks that overlap, and frames that enclose a foreign block or overlap a non-nested frame."""
    return _overlaps(geo) + _frame_problems(geo)


def _pairs(rects: dict[str, Rect]) -> Iterable[tuple[str, str]]:
    """Pairs of keys whose rectangles overlap (a sweep along x)."""
    items = sorted(rects.items(), key=lambda kv: kv[1][0])
    for i, (a, ra) in enumerate(items):
        for b, rb in items[i + 1:]:
            if rb[0] >= ra[2]:
                break
            if overlap(ra, rb):
                yield a, b


def _overlaps(geo: Geometry) -> list[str]:
    items = {b: geo.item(b) for b in geo.boxes}
    return [f"blocks {a} and {b} overlap" for a, b in _pairs(items)]


def _frame_problems(geo: Geometry) -> list[str]:
    frames = geo.frames()
    found = []
    for group, frame in frames.items():
        for block_id, group_of in geo.groups.items():
            inside = group_of == group or group_of.startswith(group + ".")
            if not inside and overlap(geo.item(block_id), frame):
                found.append(f"frame {group} encloses {block_id}, which is not in it")
    for a, b in _pairs(frames):
        if not (b.startswith(a + ".") or a.startswith(b + ".")):
            found.append(f"frames {a} and {b} overlap")
    return found


def _wire_problems(geo: Geometry, routes: dict[tuple[str, int], list[Point]]) -> list[str]:
    obstacles = geo.obstacles()
    found = []
    for wire in geo.graph.wires():
        points = routes[(wire.target, wire.port)]
        for block_id in sorted(crossed(points, obstacles, (wire.source, wire.target))):  # type: ignore[type-var]
            found.append(f"wire {wire.source} → {wire.target} passes through {block_id}")
    return found


def branch_chains(graph: Graph) -> dict[str, list[list[str]]]:
    """For each fork (a block feeding several), the chains leaving it.

    A chain follows single wires (a block with one successor feeding a block with one
    predecessor) within one group.
    """
    nx = graph.nx
    out: dict[str, list[list[str]]] = {}
    for fork in graph.ids():
        successors = list(dict.fromkeys(nx.successors(fork)))
        if len(successors) < 2:
            continue
        chains = []
        for head in successors:
            chain = [head]
            while True:
                nxt = list(dict.fromkeys(nx.successors(chain[-1])))
                if len(nxt) != 1 or nx.in_degree(nxt[0]) != 1 or nxt[0] in chain:
                    break
                if graph.block(nxt[0]).group != graph.block(head).group:
                    break
                chain.append(nxt[0])
            chains.append(chain)
        out[fork] = chains
    return out


def _segments(geo: Geometry, chain: list[str]) -> list[list[str]]:
    """A chain cut where it wraps to another row (the next block is not to the right)."""
    parts = [[chain[0]]]
    for a, b in zip(chain, chain[1:], strict=False):
        if geo.pos[b][0] > geo.pos[a][0]:
            parts[-1].append(b)
        else:
            parts.append([b])
    return parts


def _lane_problems(geo: Geometry) -> list[str]:
    found = []
    for fork, chains in branch_chains(geo.graph).items():
        lanes = []
        for chain in chains:
            for part in _segments(geo, chain):
                ys = {geo.pos[b][1] for b in part}
                if len(ys) > 1:
                    found.append(f"branch {part[0]}…{part[-1]} after {fork} is not one lane")
                left, right = geo.boxes[part[0]][0], geo.boxes[part[-1]][2]
                lanes.append((chain[0], min(ys), left, right))
        for i, (a, ya, la, ra) in enumerate(lanes):
            for b, yb, lb, rb in lanes[i + 1:]:
                if a != b and ya == yb and la < rb and lb < ra:
                    found.append(f"branches {a} and {b} after {fork} share a lane")
    return found
