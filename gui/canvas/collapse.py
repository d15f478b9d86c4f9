"""Where blocks are drawn while groups are collapsed (view state; the graph never changes).

A collapsed group shrinks to one box, so the rows below it move up by the height it no
longer needs: a block below a collapsed region is drawn ``saved`` pixels higher than its
model position. :class:`Shifts` maps model y to drawn y and back (for moves and drops).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from builder.geometry import parents
from builder.graph import Graph
from gui.canvas.groups import BOX_H, LABEL_H, PAD


@dataclass(frozen=True)
class Region:
    """A collapsed group in model coordinates: blocks below ``bottom`` move up by ``saved``."""

    group: str
    bottom: float
    saved: float
    members: frozenset[str]


class Shifts:
    """Vertical offsets of blocks caused by collapsed groups."""

    def __init__(self, regions: list[Region] | None = None) -> None:
        self.regions = sorted(regions or [], key=lambda r: r.bottom)
        self._bottoms = [r.bottom for r in self.regions]
        self._members = frozenset().union(*(r.members for r in self.regions)) if self.regions else frozenset()

    def __bool__(self) -> bool:
        return bool(self.regions)

    def dy(self, block_id: str | None, model_y: float) -> float:
        """How far up (negative) a block at ``model_y`` is drawn."""
        if not self.regions:
            return 0.0
        n = bisect_right(self._bottoms, model_y)
        if block_id is not None and block_id in self._members:
            return -sum(r.saved for r in self.regions[:n] if block_id not in r.members)
        return -sum(r.saved for r in self.regions[:n])

    def to_model(self, view_y: float) -> float:
        """The model y drawn at ``view_y`` (for a block dropped or dragged there)."""
        y = view_y
        for region in self.regions:
            if y + region.saved >= region.bottom:
                y += region.saved
        return y


def compute(graph: Graph, collapsed: set[str], height_of: Callable[[str], float]) -> Shifts:
    """The shifts for the outermost collapsed groups of ``graph``."""
    tops = [g for g in collapsed if not any(p in collapsed for p in parents(g)[:-1])]
    regions = []
    for group in tops:
        prefix = group + "."
        members = [b for b in graph.blocks() if b.group == group or b.group.startswith(prefix)]
        if not members:
            continue
        top = min(b.pos[1] for b in members)
        bottom = max(b.pos[1] + height_of(b.id) for b in members)
        levels = 1 + max(b.group.count(".") for b in members) - group.count(".")
        top -= (PAD + LABEL_H) * levels
        bottom += PAD * levels
        saved = max(0.0, (bottom - top) - BOX_H)
        regions.append(Region(group, bottom, saved, frozenset(b.id for b in members)))
    return Shifts(regions)
