"""Edits on the canvas selection, each pushed as one undo step (a macro when it takes several).

Delete, copy/paste/duplicate with fresh ids, group, tidy up and the fix-its. The clipboard
holds plain JSON (blocks and the wires between them), never code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from builder import catalog, fixits
from builder.graph import Graph, GraphError, id_problem
from builder.layout import BLOCK_W, Rect, block_height, layout
from gui import commands
from gui.document import Document

Placer = Callable[[list[Rect], tuple[float, float]], tuple[float, float]]

CLIP_MIME = "application/x-skipwire-blocks"
PASTE_STEP = 40.0


def snapshot(graph: Graph, ids: list[str]) -> dict[str, Any]:
    """The blocks ``ids`` and the wires among them, as JSON-ready data."""
    chosen = set(ids)
    blocks = [{"id": b.id, "type": b.type, "params": dict(b.params), "pos": list(b.pos)}
              for b in graph.blocks() if b.id in chosen]
    wires = [[w.source, w.target, w.port] for w in graph.wires()
             if w.source in chosen and w.target in chosen]
    return {"blocks": blocks, "wires": wires}


def fresh_ids(graph: Graph, old_ids: list[str]) -> dict[str, str]:
    """New unused ids for pasted blocks: ``conv1`` → ``conv1_copy1`` (or ``conv1`` if free)."""
    used = set(graph.ids())
    mapping: dict[str, str] = {}
    for old in old_ids:
        new = old
        n = 1
        while new in used or id_problem(new):
            new = f"{old}_copy{n}"
            n += 1
        used.add(new)
        mapping[old] = new
    return mapping


def _check_clip(data: Any) -> None:
    """Raise ValueError unless ``data`` is blocks and wires this program can paste."""
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
        raise ValueError("the clipboard does not hold Skipwire blocks")
    ids = set()
    for b in data["blocks"]:
        if not (isinstance(b, dict) and isinstance(b.get("id"), str) and isinstance(b.get("params"), dict)
                and isinstance(b.get("pos"), list) and len(b["pos"]) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b["pos"])):
            raise ValueError("the clipboard holds a malformed block")
        spec = catalog.CATALOG.get(b.get("type"))  # type: ignore[arg-type]
        if spec is None:
            raise ValueError(f"block {b['id']!r} has an unknown type {b.get('type')!r}")
        for name, value in b["params"].items():
            param = spec.param_map.get(name)
            if param is None or param.type_error(value):
                raise ValueError(f"block {b['id']!r} has a bad parameter {name!r}")
        ids.add(b["id"])
    for w in data.get("wires", []):
        if not (isinstance(w, list) and len(w) == 3 and w[0] in ids and w[1] in ids
                and isinstance(w[2], int) and not isinstance(w[2], bool) and 0 <= w[2] < 4096):
            raise ValueError("the clipboard holds a malformed wire")


class Editor:
    """Selection edits for one document; the view supplies the selection and shows results."""

    def __init__(self, document: Document, placer: Placer | None = None) -> None:
        self.doc = document
        self._clip: dict[str, Any] | None = None
        self.placer = placer or (lambda rects, start: start)  # the canvas finds free space

    @property
    def graph(self) -> Graph:
        return self.doc.graph

    def push(self, command: commands.QUndoCommand) -> None:
        self.doc.undo_stack.push(command)

    # ------------------------------------------------------------------ delete
    def delete(self, block_ids: list[str], wires: list[tuple[str, int]]) -> bool:
        """Delete blocks and wires (``(target, port)``) as one step; False when nothing to do."""
        doomed = set(block_ids)
        loose = [(t, p) for t, p in wires if t not in doomed and p in self.graph.inputs_of(t)
                 and self.graph.inputs_of(t)[p] not in doomed]
        if not block_ids and not loose:
            return False
        stack = self.doc.undo_stack
        stack.beginMacro(self._delete_text(block_ids, loose))
        for target, port in loose:
            stack.push(commands.Disconnect(self.doc, target, port))
        for block_id in block_ids:
            stack.push(commands.RemoveBlock(self.doc, block_id))
        stack.endMacro()
        return True

    @staticmethod
    def _delete_text(block_ids: list[str], wires: list[tuple[str, int]]) -> str:
        if len(block_ids) == 1 and not wires:
            return f"Delete {block_ids[0]}"
        parts = [f"{len(block_ids)} block(s)"] if block_ids else []
        parts += [f"{len(wires)} wire(s)"] if wires else []
        return "Delete " + " and ".join(parts)

    # ------------------------------------------------------------------ clipboard
    def copy(self, block_ids: list[str]) -> bool:
        if not block_ids:
            return False
        self._clip = snapshot(self.graph, block_ids)
        mime = QMimeData()
        mime.setData(CLIP_MIME, json.dumps(self._clip).encode("utf-8"))
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setMimeData(mime)
        return True

    def _clipboard_data(self) -> dict[str, Any] | None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData() if clipboard is not None else None
        if mime is not None and mime.hasFormat(CLIP_MIME):
            data = json.loads(bytes(mime.data(CLIP_MIME).data()).decode("utf-8"))
            _check_clip(data)
            return data  # type: ignore[no-any-return]
        return self._clip

    def paste(self) -> list[str]:
        """Paste the clipboard with fresh ids where the copies overlap nothing; returns new ids."""
        data = self._clipboard_data()
        if not data or not data["blocks"]:
            return []
        return self.insert(data, self.free_offset(data), "Paste")

    def duplicate(self, block_ids: list[str]) -> list[str]:
        if not block_ids:
            return []
        data = snapshot(self.graph, block_ids)
        return self.insert(data, self.free_offset(data), "Duplicate")

    def free_offset(self, data: dict[str, Any]) -> tuple[float, float]:
        """The offset nearest one step right and down where the copies touch no block or frame."""
        return self.placer(clip_rects(data), (PASTE_STEP, PASTE_STEP))

    def insert(self, data: dict[str, Any], offset: tuple[float, float], verb: str) -> list[str]:
        """Add copies of ``data``'s blocks (ungrouped) and their inner wires in one macro."""
        mapping = fresh_ids(self.graph, [b["id"] for b in data["blocks"]])
        stack = self.doc.undo_stack
        stack.beginMacro(f"{verb} {len(mapping)} block(s)")
        try:
            for b in data["blocks"]:
                pos = (b["pos"][0] + offset[0], b["pos"][1] + offset[1])
                stack.push(commands.AddBlock(self.doc, b["type"], pos, dict(b["params"]),
                                             mapping[b["id"]]))
            for source, target, port in data.get("wires", []):
                if source in mapping and target in mapping:
                    stack.push(commands.Connect(self.doc, mapping[source], mapping[target], port))
        finally:
            stack.endMacro()
        return list(mapping.values())

    # ------------------------------------------------------------------ groups, layout
    def group(self, block_ids: list[str], group: str) -> None:
        if block_ids:
            self.push(commands.SetGroup(self.doc, block_ids, group))

    def tidy_up(self) -> bool:
        """Move every block to its auto-layout position as one step."""
        moves = {b: pos for b, pos in layout(self.graph).items() if self.graph.block(b).pos != pos}
        if not moves:
            return False
        self.push(commands.Move(self.doc, moves, "Tidy up"))
        return True

    # ------------------------------------------------------------------ fix-its
    def fixits_for(self, block_id: str) -> list[fixits.FixIt]:
        return fixits.plan(self.graph, block_id, self.doc.report())

    def apply_fixit(self, fix: fixits.FixIt) -> None:
        """Apply a planned fix-it as one undo macro of ordinary commands."""
        stack = self.doc.undo_stack
        stack.beginMacro(fix.title)
        try:
            for op in fix.ops:
                stack.push(_command(self.doc, op))
        finally:
            stack.endMacro()


def clip_rects(data: dict[str, Any]) -> list[Rect]:
    """The boxes of clipboard blocks at their stored positions (heights from their inner wires)."""
    wired: dict[str, list[int]] = {}
    for _source, target, port in data.get("wires", []):
        wired.setdefault(target, []).append(port)
    rects = []
    for b in data["blocks"]:
        x, y = float(b["pos"][0]), float(b["pos"][1])
        rects.append((x, y, x + BLOCK_W, y + block_height(b["type"], wired.get(b["id"], []))))
    return rects


def _command(doc: Document, op: fixits.Op) -> commands.QUndoCommand:
    a = op.args
    if op.kind == "move":
        return commands.Move(doc, dict(a["moves"]), "Make room")
    if op.kind == "add_block":
        return commands.AddBlock(doc, a["type_id"], a["pos"], a["params"], a["block_id"], a["group"])
    if op.kind == "connect":
        return commands.Connect(doc, a["source"], a["target"], a["port"])
    if op.kind == "disconnect":
        return commands.Disconnect(doc, a["target"], a["port"])
    raise GraphError(f"unknown fix-it operation {op.kind!r}")
