"""Pre-flight panel: the signal check of the graph being edited, and its tint on the canvas.

With *Automatic* on, every valid edit schedules a check (after a 400 ms pause in the edits);
while the last check's own cost (compile + one forward/backward, not the first torch import or
data load) stays within :data:`AUTO_BUDGET_S` it keeps running automatically, otherwise it waits
for *Check now*. The canvas tint is each Conv2d/BatchNorm2d/Linear block's weight-gradient norm
on a log scale (the colour map of the training heat).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from builder.graph import Graph
from builder.validate import Report
from gui.xray.jobs import Job, dataset, finish
from gui.xray.widgets import FigureView, JobBar

AUTO_BUDGET_S = 0.5  # the goal for ResNet-56 on the CPU
DEBOUNCE_MS = 400
LEVEL_COLORS = {"error": "#c62828", "warning": "#b26a00", "ok": "#2e7d32"}
DATASETS = ("digits", "synthetic")


def check_work(graph: Graph, dataset_name: str, batch: int, seed: int = 0) -> Any:
    """The job: fit ``graph`` to the data set and profile one step (runs in a worker thread)."""

    def work(_progress: Any, _stop: Any) -> Any:
        from builder.training.adapt import adapt_graph
        from builder.training.config import TrainConfig
        from builder.xray.preflight import preflight

        data = dataset(TrainConfig.from_dict({"dataset": dataset_name, "seed": seed}))
        fitted, _ = adapt_graph(graph, data.input_shape, data.num_classes)
        return preflight(fitted, data, batch_size=batch, seed=seed)
    return work


def tints(result: Any) -> dict[str, QColor]:
    """Weight-gradient norm per block, log-scaled between the profile's extremes."""
    from gui.training.heat import LEVELS, heat_color

    norms = {r.block_id: math.log10(r.weight_grad_norm) for r in result.rows
             if r.weight_grad_norm > 0 and math.isfinite(r.weight_grad_norm)}
    if not norms:
        return {}
    lo, hi = min(norms.values()), max(norms.values())
    span = max(hi - lo, 1e-9)
    return {b: heat_color(round(LEVELS * (v - lo) / span) / LEVELS) for b, v in norms.items()}


class PreflightPanel(QWidget):
    """Controls, verdicts and the depth profile of the current graph's pre-flight check."""

    def __init__(self, document: Any, canvas: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.canvas = document, canvas
        self.result: Any = None
        self.job: Job | None = None
        self._pending = False
        self._slow = False
        self._tinted = False
        self._checks = 0
        self.data_choice = QComboBox()
        self.data_choice.addItems(DATASETS)
        self.batch = QSpinBox()
        self.batch.setRange(2, 1024)
        self.batch.setValue(128)
        self.auto = QCheckBox("Automatic")
        self.auto.setChecked(True)
        self.auto.setToolTip(f"Check after each valid edit while a check costs ≤ {AUTO_BUDGET_S} s")
        self.tint = QCheckBox("Tint canvas")
        self.tint.setChecked(True)
        self.tint.setToolTip("Colour each weight layer by its weight-gradient norm (log scale)")
        self.run_button = QPushButton("Check now")
        self.verdicts = QListWidget()
        self.verdicts.setWordWrap(True)
        self.jobbar = JobBar()
        self.view = FigureView("The activation and gradient profile of one training step appears here.")
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._layout()
        self._timer.timeout.connect(self.check)
        self.run_button.clicked.connect(lambda _checked=False: self.check(forced=True))
        self.tint.toggled.connect(lambda _on: self.apply_tint())
        self.auto.toggled.connect(self._auto_toggled)
        document.validated.connect(self.on_validated)

    def _layout(self) -> None:
        controls = QHBoxLayout()
        for w in (QLabel("Data"), self.data_choice, QLabel("Batch"), self.batch, self.auto, self.tint):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.run_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.verdicts)
        split.addWidget(self.view)
        split.setSizes([300, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.jobbar)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ scheduling
    def on_validated(self, report: Report) -> None:
        if self.auto.isChecked() and report.ok and not self._slow:
            self._timer.start()

    def _auto_toggled(self, on: bool) -> None:
        self._slow = False
        if on and self.document.report().ok:
            self._timer.start()

    def check(self, forced: bool = False) -> None:
        """Start a check of the current graph (or queue one behind the check in progress)."""
        report = self.document.report()
        if not report.ok:
            self.jobbar.say(f"The graph has {len(report.errors)} error(s); fix them to check it.", True)
            return
        if self.job is not None and self.job.isRunning():
            self._pending = True
            return
        if forced:
            self._slow = False
        work = check_work(self.document.graph.copy(), self.data_choice.currentText(), self.batch.value())
        self.job = Job(work)
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._next)
        self.jobbar.attach(self.job, "Checking… (the first check imports torch and loads the data)")
        self.job.start()

    def _next(self) -> None:
        if self._pending:
            self._pending = False
            self.check()

    def _failed(self, message: str, _user: bool) -> None:
        self.jobbar.say(message, True)

    def _done(self, result: Any) -> None:
        self.result = result
        self._checks += 1
        # the first check of a process pays torch's one-time set-up: it does not decide
        self._slow = self._checks > 1 and result.seconds > AUTO_BUDGET_S
        note = (f" — over {AUTO_BUDGET_S} s, so automatic checks wait for Check now" if self._slow
                and self.auto.isChecked() else "")
        self.jobbar.say(f"{result.graph_name} on {self.data_choice.currentText()} {result.rows[0].shape} "
                        f"(fitted), batch {result.batch_size}: loss {result.loss:.3g}, "
                        f"{result.seconds:.2f} s{note}")
        self.verdicts.clear()
        for verdict in result.verdicts:
            item = QListWidgetItem(f"{verdict.level}: {verdict.message}")
            item.setForeground(QColor(LEVEL_COLORS.get(verdict.level, "#000000")))
            item.setData(Qt.ItemDataRole.UserRole, verdict.block_id)
            self.verdicts.addItem(item)
        self.view.redraw(self._draw)
        self.apply_tint()

    def _draw(self, figure: Any) -> None:
        from builder.xray.plots import draw_preflight

        ax_act, ax_grad = figure.subplots(1, 2)
        draw_preflight(ax_act, ax_grad, [self.result])

    def apply_tint(self) -> None:
        """Tint the canvas, or take the tint off (only when this panel put it there)."""
        scene = self.canvas.scene()
        if self.tint.isChecked() and self.result is not None:
            ids = set(self.document.graph.ids())
            scene.set_block_tints({b: c for b, c in tints(self.result).items() if b in ids})
            self._tinted = True
        elif self._tinted:
            scene.set_block_tints({})
            self._tinted = False

    def shutdown(self) -> None:
        self._timer.stop()
        finish(self.job)
