"""Graph-diff panel: the open graph (A) against a graph file (B), on both canvases and in plots.

*Compare* lists the blocks and wires B adds, removes or changes. *Highlight* tints both
canvases — removed (red) and changed (orange) blocks on the window's canvas, added (green) and
changed ones on the panel's own canvas of B — and draws B's skip wires thicker. With a run
folder for each graph, *Overlay runs* draws both runs' training loss and error in one plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.graph import Graph
from gui.xray.overlay import MAX_WIDTH, SkipOverlay
from gui.xray.split_panel import runs_root
from gui.xray.widgets import FigureView, RunField

KIND_COLORS = {"added": QColor(120, 200, 120), "removed": QColor(229, 115, 115),
               "changed": QColor(255, 183, 77)}


class DiffPanel(QWidget):
    """A against B: a list of changes, a canvas of B, highlights, both runs in one plot."""

    def __init__(self, document: Any, canvas: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.canvas = document, canvas
        self.other: Graph | None = None
        self.changes: Any = None
        self.other_view: Any = None
        self._tinted = False
        self.file = RunField("B", lambda: str(Path.cwd() / "graphs"), files=True)
        self.compare_button = QPushButton("Compare with the open graph")
        self.highlight = QCheckBox("Highlight on canvases")
        self.highlight.setChecked(True)
        self.summary = QLabel("Choose a graph file to compare the open graph (A) with.")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["change", "what", "detail"])
        self.tree.setRootIsDecorated(False)
        self.runs = [RunField(f"run of {side}", lambda: str(runs_root())) for side in "AB"]
        self.overlay_button = QPushButton("Overlay runs")
        self.view = FigureView("Both graphs' runs (training loss and error) appear here.")
        self.view.setMinimumWidth(380)  # two plots side by side need this much
        self.holder = QVBoxLayout()
        self._layout()
        self.compare_button.clicked.connect(lambda _c=False: self.compare())
        self.highlight.toggled.connect(lambda _on: self.apply_highlight())
        self.overlay_button.clicked.connect(lambda _c=False: self.overlay_runs())

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.file, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.highlight)
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.summary)
        box.addWidget(self.tree, 1)
        right = QWidget()
        right.setLayout(self.holder)
        self.holder.setContentsMargins(0, 0, 0, 0)
        self.holder.addWidget(QLabel("Graph B"))
        plots = QWidget()
        pbox = QVBoxLayout(plots)
        pbox.setContentsMargins(0, 0, 0, 0)
        for field in self.runs:
            pbox.addWidget(field)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.overlay_button)
        pbox.addLayout(row)
        pbox.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        for w in (left, right, plots):
            split.addWidget(w)
        split.setSizes([340, 420, 520])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def compare(self, path: str | None = None) -> None:
        from builder import fileformat
        from builder.xray.diff import diff

        path = path or self.file.path()
        try:
            other = fileformat.load(path)
        except (fileformat.GraphFileError, OSError) as exc:
            self.summary.setText(f"<span style='color:#c62828'>{exc}</span>")
            return
        self.other, self.changes = other, diff(self.document.graph, other)
        self.summary.setText(self.changes.summary())
        self._fill_tree()
        self._show_other(other)
        self.apply_highlight()

    def _fill_tree(self) -> None:
        self.tree.clear()
        for c in self.changes.blocks:
            item = QTreeWidgetItem([c.kind, f"block {c.block_id} ({c.type})", c.detail])
            item.setBackground(0, KIND_COLORS[c.kind])
            item.setData(0, Qt.ItemDataRole.UserRole, c.block_id)
            self.tree.addTopLevelItem(item)
        for w in self.changes.wires:
            item = QTreeWidgetItem([w.kind, f"wire {w}", "skip path" if w.skip else ""])
            item.setBackground(0, KIND_COLORS[w.kind])
            self.tree.addTopLevelItem(item)
        for col in range(3):
            self.tree.resizeColumnToContents(col)

    def _show_other(self, other: Graph) -> None:
        from gui.canvas.view import CanvasView
        from gui.document import Document

        if self.other_view is not None:
            self.holder.removeWidget(self.other_view)
            self.other_view.deleteLater()
        self.other_view = CanvasView(Document(other), self)
        self.other_view.setInteractive(False)  # a picture of B, not a second editor
        self.holder.addWidget(self.other_view, 1)
        self.other_skips = SkipOverlay(self.other_view)
        QTimer.singleShot(0, self.other_view, self.other_view.fit_all)  # once it has its size

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.other_view is not None:
            QTimer.singleShot(0, self.other_view, self.other_view.fit_all)

    def apply_highlight(self) -> None:
        from builder.xray.diff import skip_wires

        if self.changes is None:
            return
        on = self.highlight.isChecked()
        tint = lambda side: {b: KIND_COLORS[k] for b, k in self.changes.marks(side).items()} if on else {}
        if on or self._tinted:
            self.canvas.scene().set_block_tints(tint("a"))
            self._tinted = on
        if self.other_view is not None and self.other is not None:
            self.other_view.scene().set_block_tints(tint("b"))
            self.other_skips.show({w: MAX_WIDTH / 2 for w in skip_wires(self.other)} if on else {})

    def overlay_runs(self) -> None:
        from gui.training.history import load_run

        runs = []
        for field in self.runs:
            if field.path():
                try:
                    runs.append(load_run(field.path()))
                except ValueError as exc:
                    self.summary.setText(f"<span style='color:#c62828'>{exc}</span>")
                    return
        if runs:
            self._loaded = runs
            self.view.redraw(self._draw_runs)

    def _draw_runs(self, figure: Any) -> None:
        from builder.xray.plots import COLORS

        ax_loss, ax_err = figure.subplots(1, 2)
        for k, run in enumerate(self._loaded):
            epochs = [m.epoch for m in run.epochs]
            color = COLORS[k % len(COLORS)]
            ax_loss.plot(epochs, [max(m.train_loss, 1e-6) for m in run.epochs], color=color,
                         label=run.graph_name)
            ax_err.plot(epochs, [100 * (1 - m.train_acc) for m in run.epochs], color=color,
                        label=run.graph_name)
        ax_loss.set(yscale="log", xlabel="epoch", ylabel="training loss", title="Training loss")
        ax_err.set(xlabel="epoch", ylabel="training error (%)", title="Training error")
        for ax in (ax_loss, ax_err):
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
