"""Layered auto-layout: columns by topological depth, one row band per leaf group.

Blocks flow left to right by their longest-path depth from the Input. Consecutive blocks
of one group (a residual block, a stage) share a row band; long ungrouped runs wrap every
``max_columns`` columns. Blocks at the same depth in a band (a projection shortcut beside
the main path) stack in lanes below it, so nothing overlaps. Bands leave room between them
for group frames and for the wires that run back to the start of the next row; a change of
top-level group (a new stage) leaves a little more. Positions sit on the canvas grid.
"""

from __future__ import annotations

from builder.graph import Graph
from builder.validate import _kahn

DX = 240.0  # column pitch (a canvas block is 150 wide: room for a wire and its shape label)
LANE = 100.0  # lane pitch inside a band (a block is 60 high)
BAND_GAP = 60.0  # space between bands: room for group frames and the wires between rows
STAGE_GAP = 40.0  # extra space where the top-level group changes (layer1 → layer2)
GRID = 20.0  # positions are multiples of the canvas snap grid


def depths(graph: Graph, order: list[str]) -> dict[str, int]:
    """Longest-path depth of each block (blocks in cycles count from 0)."""
    depth: dict[str, int] = {}
    for block_id in order:
        preds = [src for src, _ in graph.nx.in_edges(block_id) if src in depth]
        depth[block_id] = 1 + max((depth[p] for p in preds), default=-1)
    return depth


def _bands(graph: Graph, order: list[str], depth: dict[str, int], max_columns: int) -> list[list[str]]:
    bands: list[list[str]] = []
    for block_id in order:
        group = graph.block(block_id).group
        if bands:
            band = bands[-1]
            same_group = graph.block(band[0]).group == group
            span = depth[block_id] - min(depth[b] for b in band)
            if same_group and (group or span < max_columns):
                band.append(block_id)
                continue
        bands.append([block_id])
    return bands


def layout(graph: Graph, max_columns: int = 10) -> dict[str, tuple[float, float]]:
    """New canvas positions for every block (the graph is not changed)."""
    order, stuck = _kahn(graph)
    order += [b for b in graph.ids() if b in stuck]
    depth = depths(graph, order)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    stage: str | None = None
    for band in _bands(graph, order, depth, max_columns):
        group = graph.block(band[0]).group
        if stage is not None and group.split(".")[0] != stage:
            top += STAGE_GAP
        stage = group.split(".")[0]
        first = min(depth[b] for b in band)
        lanes: dict[int, int] = {}
        for block_id in band:
            col = depth[block_id] - first
            lane = lanes.get(col, 0)
            lanes[col] = lane + 1
            positions[block_id] = (col * DX, top + lane * LANE)
        top += max(lanes.values()) * LANE + BAND_GAP
        top = -(-top // GRID) * GRID
    return positions


def apply_layout(graph: Graph, max_columns: int = 10) -> None:
    """Move every block to its laid-out position (through ``Graph.move``)."""
    for block_id, pos in layout(graph, max_columns).items():
        if graph.block(block_id).pos != pos:
            graph.move(block_id, pos)
