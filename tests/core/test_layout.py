"""Auto-layout: shipped graphs and fresh layouts put no two blocks on top of each other."""

from __future__ import annotations

from pathlib import Path

from builder import fileformat
from builder.graph import Graph
from builder.layout import DX, LANE, apply_layout, layout
from tests.core.conftest import chain

# The canvas draws a block as a 170×60 box at its position (gui/canvas/items.py BLOCK_W,
# BLOCK_H; not imported: the core tests run without Qt). Closer than that, two boxes overlap.
MIN_DX, MIN_DY = 170.0, 60.0


def test_pitches_leave_room_for_a_block() -> None:
    assert DX >= MIN_DX and LANE >= MIN_DY


def _overlaps(positions: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    items = sorted(positions.items(), key=lambda kv: kv[1])
    clashes = []
    for i, (a, (xa, ya)) in enumerate(items):
        for b, (xb, yb) in items[i + 1:]:
            if xb - xa >= MIN_DX:
                break  # sorted by x: nothing further right can clash with a
            if abs(yb - ya) < MIN_DY:
                clashes.append((a, b))
    return clashes


def test_shipped_positions_do_not_overlap(shipped: Path) -> None:
    graph = fileformat.load(shipped)
    positions = {b.id: b.pos for b in graph.blocks()}
    assert _overlaps(positions) == []
    assert _overlaps(layout(graph)) == []


def test_layout_flows_left_to_right() -> None:
    graph = chain("conv2d", "relu", "flatten", "linear")
    positions = layout(graph)
    xs = [positions[b][0] for b in ("input", "b0", "b1", "b2", "b3", "output")]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_branches_at_one_depth_get_their_own_lanes() -> None:
    graph = chain("relu", "add")
    graph.add_block("sigmoid", block_id="side")
    graph.connect("input", "side", 0)
    graph.connect("side", "b1", 1)
    assert _overlaps(layout(graph)) == []


def test_cycles_and_loose_blocks_still_get_places() -> None:
    graph = chain("relu", "add")
    graph.connect("b1", "b1", 1)  # a self-loop
    graph.add_block("linear", block_id="loose")
    positions = layout(graph)
    assert set(positions) == set(graph.ids())
    assert _overlaps(positions) == []


def test_apply_layout_moves_through_events() -> None:
    graph = Graph()
    for _ in range(3):
        graph.add_block("relu")
    moved: list[str] = []
    graph.subscribe(lambda e: moved.append(e.block_id) if e.kind == "block_moved" else None)
    apply_layout(graph)
    assert len(moved) >= 2 and set(moved) <= set(graph.ids())
    assert {b.id: b.pos for b in graph.blocks()} == layout(graph)
