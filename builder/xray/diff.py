"""Graph diff: the blocks and wires one graph adds, removes or changes against another (no torch).

Blocks are matched by id. A block is *changed* when its type, a parameter or its group differs
(the group decides its module path, hence its checkpoint keys); canvas positions are ignored.
Wires are ``source → target:port`` triples. A wire on a residual unit's skip path (from the fork
through a ShortcutPad or projection into the Add's skip port) is marked as a skip wire, so a
plain net and its ResNet differ exactly in skip wires, shortcut blocks and the Adds.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from builder import catalog
from builder.graph import Graph, Wire
from builder.xray.structure import residual_units, unit_skip_wires

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
SIGN = {ADDED: "+", REMOVED: "-", CHANGED: "~"}


@dataclass(frozen=True)
class BlockChange:
    block_id: str
    kind: str  # added | removed | changed
    type: str  # the block's type (B's for added and changed, A's for removed)
    detail: str = ""  # what changed: "out_channels 16 → 32; group layer1.0 → layer1.1"


@dataclass(frozen=True)
class WireChange:
    wire: Wire
    kind: str  # added | removed
    skip: bool = False  # on a residual unit's skip path

    def __str__(self) -> str:
        w = self.wire
        return f"{w.source} → {w.target}:{w.port}" + ("  (skip)" if self.skip else "")


@dataclass
class GraphDiff:
    name_a: str
    name_b: str
    blocks: list[BlockChange] = field(default_factory=list)
    wires: list[WireChange] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.blocks and not self.wires

    def count(self, kind: str, what: str = "blocks") -> int:
        return sum(c.kind == kind for c in (self.blocks if what == "blocks" else self.wires))

    def summary(self) -> str:
        if self.same:
            return f"{self.name_a} and {self.name_b} have the same blocks and wires"
        skips = sum(c.skip for c in self.wires)
        return (f"{self.name_a} → {self.name_b}: blocks {self.count(ADDED)} added, "
                f"{self.count(REMOVED)} removed, {self.count(CHANGED)} changed; wires "
                f"{self.count(ADDED, 'wires')} added, {self.count(REMOVED, 'wires')} removed "
                f"({skips} on skip paths)")

    def text(self) -> str:
        lines = [self.summary()]
        for c in self.blocks:
            detail = f": {c.detail}" if c.detail else ""
            label = catalog.CATALOG[c.type].label if c.type in catalog.CATALOG else c.type
            lines.append(f"{SIGN[c.kind]} block {c.block_id} ({label}){detail}")
        lines += [f"{SIGN[c.kind]} wire {c}" for c in self.wires]
        return "\n".join(lines)

    def marks(self, side: str) -> dict[str, str]:
        """``{block id: kind}`` to highlight: side ``"a"`` removed/changed, ``"b"`` added/changed."""
        keep = (REMOVED, CHANGED) if side == "a" else (ADDED, CHANGED)
        return {c.block_id: c.kind for c in self.blocks if c.kind in keep}

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["what", "change", "id_or_source", "type_or_target", "port", "detail"])
            for c in self.blocks:
                writer.writerow(["block", c.kind, c.block_id, c.type, "", c.detail])
            for w in self.wires:
                writer.writerow(["wire", w.kind, w.wire.source, w.wire.target, w.wire.port,
                                 "skip" if w.skip else ""])


def _param_text(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _block_detail(a: Graph, b: Graph, block_id: str) -> str:
    old, new = a.block(block_id), b.block(block_id)
    if old.type != new.type:
        return f"type {old.type} → {new.type}"
    parts = [f"{k} {_param_text(old.params.get(k))} → {_param_text(new.params.get(k))}"
             for k in sorted(set(old.params) | set(new.params)) if old.params.get(k) != new.params.get(k)]
    if old.group != new.group:
        parts.append(f"group {old.group or '(none)'} → {new.group or '(none)'}")
    return "; ".join(parts)


def skip_wires(graph: Graph) -> set[Wire]:
    """The wires on the skip paths of ``graph``'s residual units."""
    return {w for unit in residual_units(graph) for w in unit_skip_wires(graph, unit)}


def diff(a: Graph, b: Graph) -> GraphDiff:
    """What changes from ``a`` to ``b``."""
    result = GraphDiff(a.name, b.name)
    ids_a, ids_b = set(a.ids()), set(b.ids())
    for block_id in a.ids():
        if block_id not in ids_b:
            result.blocks.append(BlockChange(block_id, REMOVED, a.block(block_id).type))
    for block_id in b.ids():
        if block_id not in ids_a:
            result.blocks.append(BlockChange(block_id, ADDED, b.block(block_id).type))
        else:
            detail = _block_detail(a, b, block_id)
            if detail:
                result.blocks.append(BlockChange(block_id, CHANGED, b.block(block_id).type, detail))
    wires_a, wires_b = set(a.wires()), set(b.wires())
    skip_a, skip_b = skip_wires(a), skip_wires(b)
    order = lambda w: (w.target, w.port, w.source)
    result.wires += [WireChange(w, REMOVED, w in skip_a) for w in sorted(wires_a - wires_b, key=order)]
    result.wires += [WireChange(w, ADDED, w in skip_b) for w in sorted(wires_b - wires_a, key=order)]
    return result
