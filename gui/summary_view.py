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

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QWidget

from builder.catalog import fmt_shape
from builder.graph import Graph
from builder.validate import Report, validate

DEBOUNCE_MS = 400
COLUMNS = ("Block", "Type", "Output shape", "Params", "Mult-adds")


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
        """Enable the service (after start-up) and compute the first summary."""
        self.enabled = True
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
        threading.Thread(target=lambda: self._finished.emit(compute(graph, key)),
                         name="skipwire-summary", daemon=True).start()

    def _on_finished(self, result: Result) -> None:
        self._running = False
        if self._pending:
            self._pending = False
            self._launch()
            return
        if result.version == self.current_version():
            self.latest = result
            self.ready.emit(result)


class SummaryWidget(QTableWidget):
    """A table of blocks in topological order; numbers appear when the service has them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.note = ""

    def show_shapes(self, graph: Graph, report: Report) -> None:
        """Rows with shapes only (numbers pending)."""
        rows = [(b, graph.block(b).spec.label, fmt_shape(report.shapes.get(b)), "…", "…")
                for b in report.order]
        self._fill(rows)

    def show_summary(self, result: Result, graph: Graph, report: Report) -> None:
        if result.summary is None:
            self.show_shapes(graph, report)
            self.note = result.problem
            return
        self.note = ""
        self._fill([(r.block_id, r.type_label, fmt_shape(r.shape), f"{r.params:,}", f"{r.mult_adds:,}")
                    for r in result.summary.rows])

    def _fill(self, rows: list[tuple[str, ...]]) -> None:
        self.setUpdatesEnabled(False)
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QTableWidgetItem(text)
                if j >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(i, j, item)
        self.setUpdatesEnabled(True)

    def cell_text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item else ""
