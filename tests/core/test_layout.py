"""Auto-layout and canvas geometry: layouts that never mislead, on every shipped graph and on random ones.

The invariants (``builder.geometry.problems``): no block overlaps another; a group frame holds
exactly its group's blocks; no wire passes through a block it does not connect; parallel
branches are lanes. Checked on the canvas's real block size (``builder.layout`` is its home).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from builder import fileformat
from builder.geometry import Geometry, branch_chains, clashes, overlap, problems
from builder.graph import Graph
from builder.layout import (
    BLOCK_H,
    BLOCK_W,
    DX,
    GRID,
    ITEM_PAD_X,
    MIN_GAP_X,
    apply_layout,
    block_height,
    layout,
)
from builder.routing import Obstacles, crossed, route
from tests.core.conftest import GRAPHS, chain


def test_the_column_pitch_leaves_room_for_a_block_and_a_wire_turn() -> None:
    assert DX >= BLOCK_W + 2 * ITEM_PAD_X + MIN_GAP_X
    assert block_height("relu", []) == BLOCK_H
    assert block_height("concat", [0, 1, 2, 3]) > BLOCK_H  # one port per wire and a free one


def test_every_shipped_graph_after_tidy_up_keeps_every_invariant(shipped: Path) -> None:
    graph = fileformat.load(shipped)
    positions = layout(graph)
    assert set(positions) == set(graph.ids())
    assert all(x % DX == 0 and y % GRID == 0 for x, y in positions.values())
    assert problems(graph, positions) == []


@pytest.mark.parametrize("stem", ["resnet50", "wrn28_10", "resnext29_32x4d", "resnet34"])
def test_a_projection_shortcut_frame_holds_only_the_shortcut(stem: str) -> None:
    graph = fileformat.load(GRAPHS / f"{stem}.json")
    geo = Geometry(graph, layout(graph))
    frames = geo.frames()
    shortcuts = [g for g in frames if g.endswith(".shortcut")]
    assert shortcuts
    for group in shortcuts:
        stage = group.removesuffix(".shortcut")
        for block in graph.blocks():
            if block.group == stage:  # the main path of the same residual block
                assert not overlap(frames[group], geo.item(block.id)), (group, block.id)


def test_the_old_resnet50_picture_was_caught() -> None:
    """The positions shipped before this layout put a BatchNorm inside the shortcut frame."""
    graph = fileformat.load(GRAPHS / "resnet50.json")
    positions = {b.id: b.pos for b in graph.blocks()}
    positions["layer1_0_bn1"] = (0.0, 520.0)  # where the old layout drew it
    positions["layer1_0_shortcut_0"], positions["layer1_0_shortcut_1"] = (0.0, 360.0), (0.0, 680.0)
    found = clashes(Geometry(graph, positions))
    assert "frame layer1.0.shortcut encloses layer1_0_bn1, which is not in it" in found


def test_googlenet_branch_wires_go_around_the_other_branches() -> None:
    graph = fileformat.load(GRAPHS / "googlenet.json")
    geo = Geometry(graph, layout(graph))
    routes = geo.routes()
    obstacles = geo.obstacles()
    for wire in graph.wires():
        assert crossed(routes[(wire.target, wire.port)], obstacles, (wire.source, wire.target)) == set()
    concat = next(b.id for b in graph.blocks() if b.group == "b3" and b.type == "concat")
    into = {src: routes[(concat, port)] for port, src in graph.inputs_of(concat).items()}
    branch1 = into["b3_b1_2"]  # branch 1: conv, bn, relu (the seed's Sequential indices)
    b2 = geo.boxes["b3_b2_3"]  # branch 2's 3×3 conv
    assert not any(b2[1] < y < b2[3] and b2[0] < x < b2[2] for x, y in branch1)


def test_googlenet_branches_are_parallel_lanes() -> None:
    graph = fileformat.load(GRAPHS / "googlenet.json")
    pos = layout(graph)
    fork = next(f for f, chains in branch_chains(graph).items()
                if any(c[0].startswith("b3_b1") for c in chains))
    lanes = {}
    for chain_ in branch_chains(graph)[fork]:
        ys = {pos[b][1] for b in chain_}
        assert len(ys) == 1, chain_  # each branch is one straight lane
        lanes[chain_[0]] = ys.pop()
    assert len(set(lanes.values())) == len(lanes)  # ... and no two share one


def _random_graph(seed: int) -> Graph:
    """A random graph: merges, branches, nested and scattered groups, a few cycles."""
    rng = random.Random(seed)
    graph = Graph(f"random{seed}")
    groups = ["", "", "a", "a.b", "a.b.c", "c", "c.d", "e"]
    ids = []
    for _ in range(rng.randrange(2, 40)):
        kind = rng.choice(["relu", "add", "concat", "conv2d", "sigmoid", "batchnorm2d"])
        pos = (rng.randrange(-500, 500, 20), rng.randrange(-500, 500, 20))
        ids.append(graph.add_block(kind, pos=pos, group=rng.choice(groups)))
    for i, block_id in enumerate(ids):
        ports = rng.randrange(1, 4) if graph.block(block_id).type in ("add", "concat") else 1
        for port in range(ports):
            if i and rng.random() < 0.85:
                j = rng.randrange(0, i) if rng.random() < 0.95 else rng.randrange(i, len(ids))
                if ids[j] != block_id:
                    graph.connect(ids[j], block_id, port)
    return graph


@pytest.mark.parametrize("chunk", range(4))
def test_random_graphs_keep_every_invariant(chunk: int) -> None:
    for seed in range(chunk * 60, (chunk + 1) * 60):
        graph = _random_graph(seed)
        columns = random.Random(seed).choice([3, 5, 10])
        positions = layout(graph, max_columns=columns)
        assert set(positions) == set(graph.ids()), seed
        assert problems(graph, positions) == [], seed


def test_routes_always_end_on_their_ports_even_among_scattered_blocks() -> None:
    rng = random.Random(3)
    obstacles = Obstacles()
    for i in range(150):
        x, y = rng.randrange(-2000, 2000, 20), rng.randrange(-2000, 2000, 20)
        obstacles.put(i, (x, y, x + BLOCK_W, y + BLOCK_H))
    for _ in range(200):
        a, b = rng.sample(range(150), 2)
        ra, rb = obstacles.rects[a], obstacles.rects[b]
        p, q = (ra[2], (ra[1] + ra[3]) / 2), (rb[0], (rb[1] + rb[3]) / 2)
        points = route(p, q, obstacles, a, b)
        assert points[0] == p and points[-1] == q
        assert all(u[0] == v[0] or u[1] == v[1] for u, v in zip(points, points[1:], strict=False))


def test_a_straight_chain_is_one_line_and_a_detour_goes_around() -> None:
    obstacles = Obstacles()
    obstacles.put("a", (0, 0, 170, 60))
    obstacles.put("b", (240, 0, 410, 60))
    obstacles.put("c", (480, 0, 650, 60))
    assert route((170, 30), (480, 30), obstacles, "a", "c") != [(170, 30), (480, 30)]  # b is in the way
    detour = route((170, 30), (480, 30), obstacles, "a", "c")
    assert crossed(detour, obstacles, ("a", "c")) == set()
    assert route((170, 30), (240, 30), obstacles, "a", "b") == [(170, 30), (240, 30)]


def test_layout_flows_left_to_right() -> None:
    graph = chain("conv2d", "relu", "flatten", "linear")
    positions = layout(graph)
    xs = [positions[b][0] for b in ("input", "b0", "b1", "b2", "b3", "output")]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_long_chains_wrap_into_rows() -> None:
    graph = chain(*["relu"] * 30)
    positions = layout(graph, max_columns=10)
    rows = sorted({y for _, y in positions.values()})
    assert len(rows) == 4 and max(x for x, _ in positions.values()) == 9 * DX
    assert problems(graph, positions) == []


def test_branches_at_one_depth_get_their_own_lanes() -> None:
    graph = chain("relu", "add")
    graph.add_block("sigmoid", block_id="side")
    graph.connect("input", "side", 0)
    graph.connect("side", "b1", 1)
    positions = layout(graph)
    assert positions["side"][1] != positions["b0"][1]
    assert problems(graph, positions) == []


def test_cycles_and_loose_blocks_still_get_places() -> None:
    graph = chain("relu", "add")
    graph.connect("b1", "b1", 1)  # a self-loop
    graph.add_block("linear", block_id="loose")
    positions = layout(graph)
    assert set(positions) == set(graph.ids())
    assert problems(graph, positions) == []


def test_a_group_scattered_through_the_graph_is_one_box() -> None:
    graph = chain("relu", "relu", "relu", "relu")
    graph.set_group(["b0", "b2"], "g")  # b1 between them is not in the group
    positions = layout(graph)
    frames = Geometry(graph, positions).frames()
    assert not overlap(frames["g"], Geometry(graph, positions).item("b1"))
    assert problems(graph, positions) == []


def test_apply_layout_moves_through_events() -> None:
    graph = Graph()
    for _ in range(3):
        graph.add_block("relu")
    moved: list[str] = []
    graph.subscribe(lambda e: moved.append(e.block_id) if e.kind == "block_moved" else None)
    apply_layout(graph)
    assert len(moved) >= 2 and set(moved) <= set(graph.ids())
    assert {b.id: b.pos for b in graph.blocks()} == layout(graph)
