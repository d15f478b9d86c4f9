"""The summary view: per-block output shape, parameters and mult-adds.

Shapes come straight from validation. Parameters and mult-adds come from
:func:`builder.summary.summarize`, which the :class:`SummaryService` runs on a copy of the
graph in a background thread, debounced. A result is shown only for the graph state it was
computed for (:meth:`SummaryService.current`): until the figure for the current state is
ready the views say :data:`COUNTING`, and a graph with errors says why it has no figures
(:func:`errors_problem`), so no number of one graph ever appears beside another.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from builder.catalog import fmt_shape
from builder.graph import Graph
from builder.validate import Report, validate

DEBOUNCE_MS = 400
COUNTING = "counting…"
COLUMNS = ("Block", "Type", "Output shape", "Params", "Mult-adds")
COLUMN_WIDTHS = (0, 120, 110, 90, 120)  # 0: the Block column stretches
PARAMS = COLUMNS.index("Params")
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole


@dataclass(frozen=True)
class Result:
    """The outcome of one background summary: numbers, or why there are none."""

    version: Any  # (graph object id, graph version) it was computed for
    summary: Any = None  # builder.summary.Summary
    problem: str = ""


def warm_up_torch() -> threading.Thread:
    """Import torch (and torchinfo) in a daemon thread, so the first summary is quicker."""
    def work() -> None:
        import torch  # noqa: F401
        import torchinfo  # noqa: F401

    thread = threading.Thread(target=work, name="skipwire-torch-import", daemon=True)
    thread.start()
    return thread


def errors_problem(count: int) -> str:
    """Why a graph with ``count`` errors has no parameter counts."""
    if count == 1:
        return "1 error: fix it to count parameters and mult-adds"
    return f"{count} errors: fix them to count parameters and mult-adds"


def compute(graph: Graph, version: Any) -> Result:
    """Summarise ``graph`` (a private copy); never raises."""
    try:
        report = validate(graph)
        if not report.ok:
            return Result(version, problem=errors_problem(len(report.errors)))
        from builder.summary import summarize

        return Result(version, summarize(graph, report))
    except Exception as exc:  # noqa: BLE001 (a summary failure must not take the editor down)
        return Result(version, problem=f"summary failed: {exc}")


class SummaryService(QObject):
    """Recomputes the summary off the GUI thread after the graph settles."""

    ready = Signal(object)  # a Result, for the document's current graph
    _finished = Signal(object)  # from the worker thread (queued to the GUI thread)

    def __init__(self, document: Any, parent: QObject | None = None, start: bool = True) -> None:
        super().__init__(parent)
        self.document = document
        self.enabled = start
        self.latest: Result | None = None
        self._running = False
        self._pending = False
        self._thread: threading.Thread | None = None
        self._warm: threading.Thread | None = None
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._launch)
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        document.graph_event.connect(self.request)
        document.graph_replaced.connect(self.request)

    def request(self, *_args: Any) -> None:
        """Ask for a fresh summary (debounced)."""
        self.latest = None
        if self.enabled:
            self._timer.start()

    def start(self) -> None:
        """Enable the service (after start-up): import torch in the background, then summarise."""
        self.enabled = True
        self._warm = warm_up_torch()
        self.request()

    def current_version(self) -> Any:
        """The document's graph state (:meth:`gui.document.Document.state_key`)."""
        return self.document.state_key()

    def current(self) -> Result | None:
        """The latest result if it is for the graph as it is now, else None (still counting)."""
        latest = self.latest
        return latest if latest is not None and latest.version == self.current_version() else None

    def _launch(self) -> None:
        if self._running:
            self._pending = True
            return
        self._running = True
        graph = self.document.graph.copy()
        key = self.current_version()
        self._thread = threading.Thread(target=lambda: self._finished.emit(compute(graph, key)),
                                        name="skipwire-summary", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop scheduling summaries and wait for a running one (torch must not be mid-call
        when the interpreter exits)."""
        self.enabled = False
        self._timer.stop()
        for thread in (self._warm, self._thread):
            if thread is not None:
                thread.join(timeout)

    def _on_finished(self, result: Result) -> None:
        self._running = False
        if self._pending:
            self._pending = False
            self._launch()
            return
        if result.version == self.current_version():
            self.latest = result
            self.ready.emit(result)


class SummaryModel(QAbstractTableModel):
    """Rows of text; replacing them is one model reset (the view paints only what shows)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, ...]] = []
        self.note = ""  # why the number columns hold no numbers (their tooltip)

    def set_rows(self, rows: list[tuple[str, ...]], note: str = "") -> None:
        self.beginResetModel()
        self.rows = rows
        self.note = note
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= PARAMS and not self.note:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() >= PARAMS and self.note:
            return self.note
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:  # noqa: N802
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class SummaryWidget(QTableView):
    """A table of blocks in topological order; numbers appear when the service has them.

    Choosing a row (click, arrow keys, or typing the start of a block id) emits
    ``block_clicked(block_id)``; the window selects and centres that block on the canvas."""

    block_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = SummaryModel(self)
        self._restoring = False
        self.setModel(self.table)
        self.clicked.connect(self._row_clicked)
        self.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # long ids get the room
        for column, width in enumerate(COLUMN_WIDTHS):
            if width:
                self.setColumnWidth(column, width)

    @property
    def note(self) -> str:
        """Why there are no numbers (errors, a failed summary, or :data:`COUNTING`); "" when
        the numbers are shown."""
        return self.table.note

    def show_shapes(self, graph: Graph, report: Report, note: str = COUNTING) -> None:
        """Rows with shapes only; the Params column says ``note`` (still counting, or why not)."""
        macs = COUNTING if note == COUNTING else ""
        self._set_rows([(b, graph.block(b).spec.label, fmt_shape(report.shapes.get(b)), note, macs)
                        for b in report.order], note)

    def show_summary(self, result: Result, graph: Graph, report: Report) -> None:
        if result.summary is None:
            self.show_shapes(graph, report, result.problem or COUNTING)
            return
        self._set_rows([(r.block_id, r.type_label, fmt_shape(r.shape), f"{r.params:,}",
                         f"{r.mult_adds:,}") for r in result.summary.rows], "")

    def mark_counting(self) -> None:
        """The graph changed: its numbers are no longer right; say so until new ones arrive."""
        if self.table.note:
            return
        self._set_rows([(*row[:PARAMS], COUNTING, COUNTING) for row in self.table.rows], COUNTING)

    def _set_rows(self, rows: list[tuple[str, ...]], note: str) -> None:
        """Replace the rows, keeping the chosen block current (without choosing it again)."""
        current = self.currentIndex()
        chosen = self.table.rows[current.row()][0] if current.isValid() else None
        self.table.set_rows(rows, note)
        width = self.fontMetrics().horizontalAdvance(note) + 16 if note and note != COUNTING else 0
        self.setColumnWidth(PARAMS, max(COLUMN_WIDTHS[PARAMS], width))
        row = next((i for i, r in enumerate(rows) if r[0] == chosen), None) if chosen else None
        if row is not None:
            self._restoring = True
            try:
                self.setCurrentIndex(self.table.index(row, 0))
            finally:
                self._restoring = False

    # ------------------------------------------------------------------ choosing a block
    def _row_clicked(self, index: QModelIndex) -> None:
        self.block_clicked.emit(self.table.rows[index.row()][0])

    def _current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid() and not self._restoring and current.row() != previous.row():
            self.block_clicked.emit(self.table.rows[current.row()][0])

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 (Qt override)
        """Typing finds a block by the start of its id (the Block column, whatever cell is current)."""
        current = self.currentIndex()
        if current.isValid() and current.column() != 0:
            self.selectionModel().setCurrentIndex(current.siblingAtColumn(0),
                                                  QItemSelectionModel.SelectionFlag.NoUpdate)
        super().keyboardSearch(search)

    def event(self, event: QEvent) -> bool:
        """Plain typed characters belong to the search, not to one-letter window shortcuts
        (F is Fit to View)."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            plain = not event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                              | Qt.KeyboardModifier.KeypadModifier)
            if plain and event.text().isprintable() and event.text().strip():
                event.accept()
                return True
        return super().event(event)

    def cell_text(self, row: int, column: int) -> str:
        return self.table.rows[row][column] if row < len(self.table.rows) else ""
