"""The summary view: per-block output shape, parameters and mult-adds.

Shapes come straight from validation. Parameters and mult-adds come from
:func:`builder.summary.summarize`, which imports torch and compiles the graph, so the
:class:`SummaryService` runs it on a copy of the graph in a background thread, debounced,
and drops results for graphs that have changed since.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from builder.catalog import fmt_shape
from builder.graph import Graph
from builder.validate import Report, validate

DEBOUNCE_MS = 400
COLUMNS = ("Block", "Type", "Output shape", "Params", "Mult-adds")
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


def compute(graph: Graph, version: Any) -> Result:
    """Summarise ``graph`` (a private copy); never raises."""
    try:
        report = validate(graph)
        if not report.ok:
            return Result(version, problem=f"{len(report.errors)} error(s): fix them to count "
                                           "parameters and mult-adds")
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

    def current_version(self) -> tuple[int, int]:
        return id(self.document.graph), self.document.graph.version

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

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:  # noqa: N802
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class SummaryWidget(QTableView):
    """A table of blocks in topological order; numbers appear when the service has them.

    Clicking a row emits ``block_clicked(block_id)``."""

    block_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = SummaryModel(self)
        self.clicked.connect(self._row_clicked)
        self.setModel(self.table)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # long ids get the room
        for column, width in enumerate((0, 120, 110, 90, 120)):
            if width:
                self.setColumnWidth(column, width)
        self.note = ""

    def show_shapes(self, graph: Graph, report: Report) -> None:
        """Rows with shapes only (numbers pending)."""
        self.table.set_rows([(b, graph.block(b).spec.label, fmt_shape(report.shapes.get(b)), "…", "…")
                             for b in report.order])

    def show_summary(self, result: Result, graph: Graph, report: Report) -> None:
        if result.summary is None:
            self.show_shapes(graph, report)
            self.note = result.problem
            return
        self.note = ""
        self.table.set_rows([(r.block_id, r.type_label, fmt_shape(r.shape), f"{r.params:,}",
                              f"{r.mult_adds:,}") for r in result.summary.rows])

    def _row_clicked(self, index: QModelIndex) -> None:
        self.block_clicked.emit(self.table.rows[index.row()][0])

    def cell_text(self, row: int, column: int) -> str:
        return self.table.rows[row][column] if row < len(self.table.rows) else ""
