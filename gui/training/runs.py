"""The runs list: the runs of this session and the earlier ones found in the runs folder.

Newest first. Selecting several rows overlays their curves and gradient-by-depth profiles in
the plots. Each run is also on disk (the engine's run folder: graph.json, config.json,
metrics.csv, steps.csv, gradients.csv, checkpoint.pt, and the window's run.json); the folder is
shown in the row's tooltip. From here a run's metrics are exported as CSV and any plot as PNG;
the row's context menu (:attr:`RunsWidget.run_actions`) evaluates a finished run, exports its
trained weights with the graph it trained, and restores its settings into the form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.training.history import COLORS, PLOTS, TITLES, RunData, load_run, write_metrics_csv

COLUMNS = ("run", "graph", "status", "device", "epochs", "train loss", "train acc", "val acc",
           "grad first/last", "time")
# context-menu actions on the selected run: key → (text, needs a checkpoint)
RUN_ACTIONS = (("evaluate", "Evaluate…", True), ("export_code", "Export PyTorch code + weights…", True),
               ("export_onnx", "Export ONNX…", True), ("export_weights", "Export weights…", True),
               ("settings", "Use this run's settings", False))
STATUS_COLORS = {"completed": "#2e7d32", "stopped": "#8d6e00", "non_finite": "#c62828",
                 "diverged": "#c62828", "failed": "#c62828", "running": "#1565c0", "paused": "#6a1b9a",
                 "warning": "#e65100"}  # a run that ended with health warnings (accuracy at chance, …)


class RunsWidget(QWidget):
    """A multi-select list of runs with CSV and PNG export."""

    selection_changed = Signal(list)  # [RunData]

    def __init__(self, plots: Callable[[], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = plots  # returns the PlotsWidget (built on first use)
        self.runs: list[RunData] = []
        self._rows: dict[int, QTreeWidgetItem] = {}
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)  # the name
        self.tree.itemSelectionChanged.connect(lambda: self.selection_changed.emit(self.selected()))
        self.csv_button = QPushButton("Metrics CSV…")
        self.csv_button.setToolTip("Write the selected run's epoch metrics as CSV")
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.plot_choice = QComboBox()
        self.plot_choice.addItem("all plots", "all")
        for key in PLOTS:
            self.plot_choice.addItem(TITLES[key].split(" (")[0].split(":")[0], key)
        self.png_button = QPushButton("Plot PNG…")
        self.png_button.clicked.connect(self.export_png_dialog)
        self.open_button = QPushButton("Open run…")
        self.open_button.setToolTip("List a run saved earlier (its run folder) to overlay it")
        self.open_button.clicked.connect(self.open_run_dialog)
        self.runs_root = ""  # where the file dialog starts
        bar = QHBoxLayout()
        for w in (self.open_button, self.csv_button, self.plot_choice, self.png_button):
            bar.addWidget(w)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bar)
        self._build_actions()

    def _build_actions(self) -> None:
        """The row context menu: one QAction per entry of RUN_ACTIONS on the tree."""
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.run_actions: dict[str, QAction] = {}
        for key, text, _needs in RUN_ACTIONS:
            action = QAction(text, self.tree)
            action.setObjectName(f"run_{key}")
            self.tree.addAction(action)
            self.run_actions[key] = action
        self.tree.itemSelectionChanged.connect(self.update_actions)
        self.update_actions()

    def update_actions(self) -> None:
        """Enable the row actions that apply to the selection (one finished run)."""
        runs = self.selected()
        run = runs[0] if len(runs) == 1 else None
        for key, _text, needs_checkpoint in RUN_ACTIONS:
            ok = run is not None and (has_checkpoint(run) if needs_checkpoint else True)
            self.run_actions[key].setEnabled(ok)

    # ------------------------------------------------------------------ rows
    def add_runs(self, runs: list[RunData], select: bool = True, newest: bool = True) -> None:
        """Add ``runs`` and maybe select them. The list shows the newest at the top.

        ``newest``: runs that start now (shown at the top); else earlier runs found on disk,
        given newest first (shown at the bottom). :attr:`runs` stays oldest first.
        """
        at = 0 if newest else self.tree.topLevelItemCount()
        for k, run in enumerate(runs):
            item = QTreeWidgetItem()
            self._rows[id(run)] = item
            if newest:
                self.runs.append(run)
            else:
                self.runs.insert(0, run)
            self.tree.insertTopLevelItem(at + k, item)
            self.update_run(run)
        if select:
            self.select(runs)

    def remove_runs(self, runs: list[RunData]) -> None:
        """Take ``runs`` off the list (a run that never started is a message, not a run)."""
        for run in runs:
            if run not in self.runs:
                continue
            self.runs.remove(run)
            item = self._rows.pop(id(run))
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self.update_actions()

    def select(self, runs: list[RunData]) -> None:
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        for run in runs:
            self._rows[id(run)].setSelected(True)
        self.tree.blockSignals(False)
        self.update_actions()
        self.selection_changed.emit(self.selected())

    def selected(self) -> list[RunData]:
        return [r for r in self.runs if self._rows[id(r)].isSelected()]

    def update_run(self, run: RunData) -> None:
        """Refresh ``run``'s row from its data."""
        item = self._rows[id(run)]
        final = run.final_metrics()
        last = run.epochs[-1] if run.epochs else None
        warned = bool(run.warning) and run.status in ("completed", "stopped")
        status = run.status.replace("_", "-") + (" ⚠" if warned else "")
        values = (run.name, run.graph_name, status, run.device or run.config.device,
                  f"{last.epoch}/{last.epochs}" if last else f"0/{run.config.epochs}",
                  _num(final.get("train_loss")), _pct(final.get("train_acc")), _pct(final.get("val_acc")),
                  _num(run.first_last_ratio()), f"{run.seconds:.1f} s" if run.seconds else "")
        for col, text in enumerate(values):
            item.setText(col, text)
        item.setForeground(2, QBrush(QColor(STATUS_COLORS.get("warning" if warned else run.status, "#333"))))
        item.setForeground(0, QBrush(QColor(run.color or "#333")))
        tip = run.describe() + (f"\nfolder: {run.run_dir}" if run.run_dir else "")
        tip += f"\n{run.error}" if run.error else ""
        tip += "".join(f"\nadapted: {n}" for n in run.notes)
        for col in range(len(COLUMNS)):
            item.setToolTip(col, tip)
        item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight)
        if item.isSelected():
            self.update_actions()  # a run that just finished can now be evaluated and exported

    def open_run(self, folder: str) -> RunData | None:
        """Read a saved run folder and list it (a message names what is wrong)."""
        try:
            run = load_run(folder)
        except ValueError as exc:
            QMessageBox.warning(self, "Open run", str(exc))
            return None
        run.color = run.color or COLORS[len(self.runs) % len(COLORS)]
        self.add_runs([run], select=False)
        return run

    def list_saved(self, folders: list[str]) -> int:
        """List run folders found on disk (newest first), reading only their small files.

        Folders that cannot be read are skipped; returns how many were listed.
        """
        runs: list[RunData] = []
        known = {r.run_dir for r in self.runs}
        for folder in folders:
            if folder in known:
                continue
            try:
                run = load_run(folder, curves=False)
            except ValueError:
                continue
            run.color = run.color or COLORS[(len(self.runs) + len(runs)) % len(COLORS)]
            runs.append(run)
        self.add_runs(runs, select=False, newest=False)
        return len(runs)

    def open_run_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open run folder", self.runs_root)
        if folder:
            self.open_run(folder)

    # ------------------------------------------------------------------ export
    def export_csv_dialog(self) -> None:
        runs = self.selected()
        if not runs:
            QMessageBox.information(self, "Export metrics", "Select a run first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export run metrics", f"{runs[0].name}-metrics.csv",
                                              "CSV files (*.csv)")
        if path:
            self._write(lambda: write_metrics_csv(runs[0], path), path)

    def export_png_dialog(self) -> None:
        key = self.plot_choice.currentData()
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", f"{key}.png", "PNG images (*.png)")
        if path:
            self._write(lambda: self.plots().export_png(key, path), path)

    def _write(self, action: object, path: str) -> None:
        try:
            action()  # type: ignore[operator]
        except OSError as exc:
            QMessageBox.warning(self, "Export", f"{path}: {exc.strerror or exc}")


def _num(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{100 * value:.2f}%"


def has_checkpoint(run: RunData) -> bool:
    """Whether ``run`` is finished and its folder holds trained weights (checkpoint.pt)."""
    import os

    return run.finished and bool(run.run_dir) and os.path.isfile(os.path.join(str(run.run_dir),
                                                                                 "checkpoint.pt"))
