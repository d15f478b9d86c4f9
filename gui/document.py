"""The GUI-side document: adapts the core graph's events to Qt signals.

One ``Document`` owns the current :class:`builder.graph.Graph`, its undo stack, its file
path and the latest validation :class:`builder.validate.Report`. Views listen to its
signals; they change the graph only by pushing commands from :mod:`gui.commands`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from builder.graph import Event, Graph
from builder.validate import Report, validate


class Document(QObject):
    graph_event = Signal(object)  # a builder.graph.Event, after every core mutation
    graph_replaced = Signal()  # New / Open / template: a different Graph object
    validated = Signal(object)  # a builder.validate.Report, after changes settle
    title_changed = Signal(str)

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.path: Path | None = None
        self.generation = 0  # bumped by every set_graph: (generation, graph.version) names a state
        self._graph = Graph()
        self._unsubscribe = self._graph.subscribe(self._on_event)
        self._report: Report | None = None
        self._revalidate = QTimer(self, singleShot=True, interval=0)
        self._revalidate.timeout.connect(self.report)
        if graph is not None:
            self.set_graph(graph)
            self.undo_stack.setClean()  # a document made around a graph starts clean

    # ------------------------------------------------------------------ graph
    @property
    def graph(self) -> Graph:
        return self._graph

    def set_graph(self, graph: Graph, path: Path | None = None) -> None:
        """Replace the document's graph (clears undo history).

        A graph read from ``path`` is clean; a graph with blocks and no path (a template, an
        import) exists nowhere on disk yet, so it counts as modified until it is saved."""
        self._unsubscribe()
        self._graph = graph
        self.generation += 1
        self._unsubscribe = graph.subscribe(self._on_event)
        self.path = Path(path) if path else None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        if self.path is None and len(graph):
            self.undo_stack.resetClean()  # undoing every edit does not make it saved either
        self._report = None
        self.graph_replaced.emit()
        self.title_changed.emit(self.title())
        self._revalidate.start()

    def _on_event(self, event: Event) -> None:
        self._report = None
        self.graph_event.emit(event)
        self._revalidate.start()  # once per event-loop turn, however many events

    # ------------------------------------------------------------------ validation
    def report(self) -> Report:
        """The validation report of the current graph (computed at most once per change)."""
        if self._report is None:
            self._report = validate(self._graph)
            self.validated.emit(self._report)
        return self._report

    # ------------------------------------------------------------------ file state
    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()
        self.title_changed.emit(self.title())

    def state_key(self) -> tuple[int, int]:
        """Identifies the current graph state (unlike ``id(graph)``, never reused)."""
        return self.generation, self._graph.version

    def _on_clean_changed(self, _clean: bool) -> None:
        self.title_changed.emit(self.title())

    def display_name(self) -> str:
        """The file's name, or the graph's name marked as never saved."""
        return self.path.name if self.path else f"{self._graph.name}.json (unsaved)"

    def title(self) -> str:
        return f"{self.display_name()}{' *' if self.modified else ''} — Skipwire"
