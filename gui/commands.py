"""Undo commands: one ``QUndoCommand`` per user action, each calling the core mutations.

Push them on ``document.undo_stack``; compound actions (delete a selection, paste, a
fix-it) wrap several in ``undo_stack.beginMacro(text)`` / ``endMacro()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from builder import catalog
from builder.graph import Block, GraphError, Wire
from gui.document import Document


def _guarded(redo: Callable[[Any], None]) -> Callable[[Any], None]:
    """A redo whose core mutation is refused makes the command obsolete (``error`` says why).

    ``QUndoStack.push`` then drops it, so its undo can never undo what it did not do (an
    undone refused Connect used to remove the wire that was already in that port).
    """

    @functools.wraps(redo)
    def wrapper(self: Any) -> None:
        try:
            redo(self)
        except GraphError as exc:
            self.error = str(exc)
            self.setObsolete(True)

    return wrapper


class _Command(QUndoCommand):
    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    @property
    def graph(self):  # type: ignore[no-untyped-def]
        return self.doc.graph


class AddBlock(_Command):
    """Add one block; ``block_id`` is fixed on the first redo so redo re-creates the same id."""

    def __init__(self, doc: Document, type_id: str, pos: tuple[float, float],
                 params: dict[str, Any] | None = None, block_id: str | None = None,
                 group: str = "") -> None:
        super().__init__(doc, f"Add {catalog.get(type_id).label}")
        self.type_id, self.pos, self.params, self.group = type_id, pos, params, group
        self.block_id = block_id

    @_guarded
    def redo(self) -> None:
        self.block_id = self.graph.add_block(self.type_id, self.params, self.pos, self.block_id,
                                             self.group)

    def undo(self) -> None:
        self.graph.remove_block(self.block_id)


class RemoveBlock(_Command):
    """Remove a block and its wires; undo puts both back."""

    def __init__(self, doc: Document, block_id: str) -> None:
        super().__init__(doc, f"Delete {block_id}")
        self.block_id = block_id
        self.block: Block | None = None
        self.wires: list[Wire] = []

    @_guarded
    def redo(self) -> None:
        self.block, self.wires = self.graph.remove_block(self.block_id)

    def undo(self) -> None:
        b = self.block
        assert b is not None
        self.graph.add_block(b.type, dict(b.params), b.pos, b.id, b.group)
        for w in self.wires:
            self.graph.connect(w.source, w.target, w.port)


class Connect(_Command):
    def __init__(self, doc: Document, source: str, target: str, port: int) -> None:
        super().__init__(doc, f"Connect {source} → {target}")
        self.wire = Wire(source, target, port)

    @_guarded
    def redo(self) -> None:
        self.graph.connect(self.wire.source, self.wire.target, self.wire.port)

    def undo(self) -> None:
        self.graph.disconnect(self.wire.target, self.wire.port)


class Disconnect(_Command):
    def __init__(self, doc: Document, target: str, port: int) -> None:
        source = doc.graph.inputs_of(target)[port]
        super().__init__(doc, f"Disconnect {source} → {target}")
        self.wire = Wire(source, target, port)

    @_guarded
    def redo(self) -> None:
        self.graph.disconnect(self.wire.target, self.wire.port)

    def undo(self) -> None:
        self.graph.connect(self.wire.source, self.wire.target, self.wire.port)


class SetParam(_Command):
    def __init__(self, doc: Document, block_id: str, name: str, value: Any) -> None:
        super().__init__(doc, f"Set {block_id}.{name} = {value!r}")
        self.block_id, self.name, self.value = block_id, name, value
        self.old = doc.graph.block(block_id).params[name]

    @_guarded
    def redo(self) -> None:
        self.graph.set_param(self.block_id, self.name, self.value)

    def undo(self) -> None:
        self.graph.set_param(self.block_id, self.name, self.old)


class Move(_Command):
    """Move several blocks at once (one drag is one undo step)."""

    def __init__(self, doc: Document, positions: dict[str, tuple[float, float]], text: str = "") -> None:
        super().__init__(doc, text or (f"Move {next(iter(positions))}" if len(positions) == 1
                                       else f"Move {len(positions)} blocks"))
        # block id → (old position from the model, new position)
        self.moves = {b: (doc.graph.block(b).pos, pos) for b, pos in positions.items()}

    @_guarded
    def redo(self) -> None:
        done: list[tuple[str, tuple[float, float]]] = []
        try:
            for block_id, (old, new) in self.moves.items():
                self.graph.move(block_id, new)
                done.append((block_id, old))
        except GraphError:  # all or nothing: put back the blocks already moved
            for block_id, old in reversed(done):
                self.graph.move(block_id, old)
            raise

    def undo(self) -> None:
        for block_id, (old, _) in self.moves.items():
            self.graph.move(block_id, old)


class Rename(_Command):
    def __init__(self, doc: Document, old: str, new: str) -> None:
        super().__init__(doc, f"Rename {old} → {new}")
        self.old, self.new = old, new

    @_guarded
    def redo(self) -> None:
        self.graph.rename(self.old, self.new)

    def undo(self) -> None:
        self.graph.rename(self.new, self.old)


class SetGroup(_Command):
    def __init__(self, doc: Document, block_ids: list[str], group: str) -> None:
        super().__init__(doc, f"Group {len(block_ids)} block(s) as {group!r}" if group
                         else f"Ungroup {len(block_ids)} block(s)")
        self.block_ids, self.group = list(block_ids), group
        self.old: dict[str, str] = {}

    @_guarded
    def redo(self) -> None:
        self.old = self.graph.set_group(self.block_ids, self.group)

    def undo(self) -> None:
        by_group: dict[str, list[str]] = {}
        for block_id, group in self.old.items():
            by_group.setdefault(group, []).append(block_id)
        for group, ids in by_group.items():
            self.graph.set_group(ids, group)
