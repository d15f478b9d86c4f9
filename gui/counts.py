"""Numbers that are never stale: the status bar totals, the Summary table and the Inspector's
per-block counts, kept in step with the document.

:class:`Counts` shows a parameter count only beside the graph state it was computed for
(:meth:`gui.summary_view.SummaryService.current`); until that figure is ready the status bar and
the Summary say "counting…", and a graph with errors says why it has none. It is correct
whether the background summary takes 10 ms or 10 s.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel

from builder.validate import Report
from gui.document import Document
from gui.inspector import InspectorWidget
from gui.style import ERROR_COLOR
from gui.summary_view import COUNTING, SummaryService, SummaryWidget, errors_problem

SEPARATOR = "   ·   "
TABLE_DEBOUNCE_MS = 150  # the Summary's rows follow an edit a little later, off the typing path


class Counts(QObject):
    """Drives ``totals`` (a status bar label), ``summary`` (in ``summary_dock``) and the
    inspector's counts from ``document``'s validation and ``service``'s results."""

    def __init__(self, document: Document, service: SummaryService, totals: QLabel,
                 summary: SummaryWidget, summary_dock: QDockWidget, inspector: InspectorWidget) -> None:
        super().__init__(summary_dock)
        self.document, self.service, self.totals = document, service, totals
        self.summary, self.summary_dock, self.inspector = summary, summary_dock, inspector
        self._shown_generation = -1  # the document generation the Summary table shows
        self._timer = QTimer(self, singleShot=True, interval=TABLE_DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_summary)
        document.graph_event.connect(self._on_graph_event)
        document.graph_replaced.connect(self._on_graph_replaced)
        service.ready.connect(self._on_result)
        summary_dock.visibilityChanged.connect(lambda _visible: self.refresh_summary())

    # ------------------------------------------------------------------ document signals
    def on_validated(self, _report: Report) -> None:
        self.update_totals()
        if self._shown_generation != self.document.generation:
            self.refresh_summary()  # another graph: its rows at once, never the old graph's
        else:
            self._timer.start()

    def _on_graph_event(self, _event: Any) -> None:
        """The counts shown belong to the graph before this change: say so until new ones come."""
        self.totals.setText(f"{len(self.document.graph)} blocks{SEPARATOR}parameters: {COUNTING}")
        self.totals.setToolTip("")
        self.totals.setStyleSheet("")
        if self.summary_dock.isVisible():
            self.summary.mark_counting()

    def _on_graph_replaced(self) -> None:
        self.update_totals()  # this graph's blocks and errors, "counting…" for its parameters
        self.summary.table.set_rows([], COUNTING)  # a hidden Summary refills when shown
        self.refresh_summary()

    def _on_result(self, result: Any) -> None:
        self.update_totals()
        rows = result.summary.rows if result.summary is not None else []
        self.inspector.set_stats({r.block_id: (r.params, r.mult_adds) for r in rows})
        self.refresh_summary()

    # ------------------------------------------------------------------ views
    def refresh_summary(self) -> None:
        """The Summary's rows for the graph as it is now (only while the table can be seen)."""
        if not self.summary_dock.isVisible():
            return
        self._shown_generation = self.document.generation
        graph, report, result = self.document.graph, self.document.report(), self.service.current()
        if report.errors:
            self.summary.show_shapes(graph, report, errors_problem(len(report.errors)))
        elif result is None:
            self.summary.show_shapes(graph, report)
        else:
            self.summary.show_summary(result, graph, report)

    def totals_text(self) -> str:
        """Blocks, parameters, mult-adds and errors of the graph as it is now."""
        graph, report, result = self.document.graph, self.document.report(), self.service.current()
        errors = len(report.errors)
        parts = [f"{len(graph)} blocks"]
        if len(graph) == 0:
            return SEPARATOR.join([*parts, "an empty graph: drag blocks from the palette"])
        if errors:
            return SEPARATOR.join([*parts, errors_problem(errors)])
        if result is None:
            parts.append(f"parameters: {COUNTING}")
        elif result.summary is None:
            parts.append("parameters not counted")
        else:
            parts += [f"{result.summary.total_params:,} parameters",
                      f"{result.summary.total_mult_adds / 1e6:,.1f}M mult-adds"]
        parts.append("0 errors")
        return SEPARATOR.join(parts)

    def update_totals(self) -> None:
        self.totals.setText(self.totals_text())
        result, report = self.service.current(), self.document.report()
        tip = result.problem if result is not None else ""
        first = report.errors[0] if report.errors and len(self.document.graph) else None
        self.totals.setToolTip(tip or (f"{first.block_id}: {first.message}" if first else ""))
        self.totals.setStyleSheet(f"color: {ERROR_COLOR};" if first else "")
