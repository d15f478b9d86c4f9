"""Glue between the main window and training: docks, the Train menu, runs, plots and heat.

One :class:`TrainingController` per window. Start (the current graph), *Train plain twin*
(the graph and :func:`builder.twin.plain_twin` of it) and *Compare depths* (plain/residual ×
20/56 from the templates, fitted to the data set like ``main.py compare``) each queue jobs on
one :class:`~gui.training.worker.TrainThread`; its queued signals update
:class:`~gui.training.history.RunData` objects, and a 10 Hz timer redraws the plots, the
progress bar, the runs list and the canvas heat. Closing the window during a run asks first,
then stops the run and waits for the thread.

Before Start, a line under the panel says how the run will fit the graph to the data set
(:mod:`gui.training.adaptview`). Runs are named ``net · data set · #n``; the runs folder is
scanned at start-up so earlier runs are listed again (newest first, curves read on selection).
A start that fails before its first step is a message, not a run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QVBoxLayout, QWidget

from builder.graph import Graph
from gui import data_dialogs, data_preview
from gui.training import runindex
from gui.training.adaptview import AdaptationView, Preview, describe
from gui.training.bar import RunClock, finished_text, running_text
from gui.training.heat import CanvasHeat
from gui.training.history import COLORS, RunData
from gui.training.launch import ProcessRun
from gui.training.panel import TrainingPanel, graph_problem
from gui.training.runactions import RunActions
from gui.training.runs import RunsWidget
from gui.training.warmup import Warmup, config_or_none
from gui.training.worker import Job, JobStart, TrainThread

if TYPE_CHECKING:  # annotations only: the controller is built after the window has both
    from gui.canvas.view import CanvasView
    from gui.document import Document

REDRAW_MS = 100  # plots, progress and heat redraw at most 10 times a second
# Optional GIL switch interval while training (None = Python's 5 ms). Each Qt → Python call on the
# GUI thread may wait one interval for the trainer; on the busy 2-core machine 1 ms vs 5 ms gave
# no clear p99 difference (bench/bench_gui_latency.py --switch-ms), so it is left alone.
SWITCH_INTERVAL_S: float | None = None
DEPTHS = (("plain20", 20, False), ("plain56", 56, False), ("resnet20", 20, True),  # the shipped files' names
          ("resnet56", 56, True))
PREVIEW_MS = 250  # the adaptation line is recomputed this long after the graph or the form changes
EXPLODED_HINT = ("Gradients exploded. Try gradient clipping (by norm, threshold 1) or a smaller "
                 "learning rate. The run's data so far is kept.")


def default_runs_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".skipwire") / "runs"


@runtime_checkable
class TrainingWindow(Protocol):
    """What the controller needs of its main window besides a QMainWindow's methods: the
    document it trains and the canvas it paints gradient heat on (``gui.mainwindow.MainWindow``)."""

    document: Document
    canvas: CanvasView


class TrainingController(QObject):
    """Owns the training docks and the run in progress for one main window."""

    all_finished = Signal()  # the thread of a Start/twin/compare ended

    def __init__(self, window: QMainWindow, runs_root: Path | None = None) -> None:
        super().__init__(window)
        if not isinstance(window, TrainingWindow):
            raise TypeError(f"{type(window).__name__} has no document and canvas to train from")
        self.window = window  # a QMainWindow that is a TrainingWindow too
        self.document = window.document
        self.runs_root = runs_root or default_runs_root()
        self.dataset: Any = None  # a ready Dataset overrides the form's data set (tests, benches)
        self.train_thread: TrainThread | ProcessRun | None = None  # ProcessRun: several processes
        self.active: list[RunData] = []
        self.stop_asked = False  # Stop was pressed for the runs in ``active`` (the bar says so)
        self.clock = RunClock()  # training time per job, pauses left out (the time-left estimate)
        self._row_versions: dict[int, int] = {}
        self.switch_interval: float | None = SWITCH_INTERVAL_S  # None leaves Python's setting alone
        self._saved_switch: float | None = None
        self.panel = TrainingPanel()
        self.adaptation = AdaptationView()
        self._plots: Any = None  # PlotsWidget, built on first use (pyqtgraph costs ~1 s to import)
        self.runs = RunsWidget(self.ensure_plots)
        self.runs.runs_root = str(self.runs_root)
        self.heat = CanvasHeat(window.canvas)
        self.timer = QTimer(self, interval=REDRAW_MS)
        self.timer.timeout.connect(self.tick)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_MS)
        self._preview_timer.timeout.connect(self.refresh_adaptation)
        self._build_docks()
        self._build_menu()
        self._connect()
        self.run_actions = RunActions(self)
        self._connect_preview()
        self.list_saved_runs()
        window.installEventFilter(self)
        self.warmup = Warmup(self)  # imports and the data set, so Start soon reaches the first step
        self.warmup.ready.connect(self._on_warm)
        self.warmup.start(config_or_none(self.panel.config))

    def _on_warm(self) -> None:
        """Torch is loaded: list the GPUs and say what precision auto means here."""
        if not self.panel.device.probed:
            self.panel.device.refresh()
        self.panel.form.refresh()

    # ------------------------------------------------------------------ construction
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        w = self.window
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.panel_dock = self._dock("Training", "training_dock", self._panel_box(), right)
        self.runs_dock = self._dock("Runs", "runs_dock", self.runs, right)
        waiting = QLabel("Plots appear here when a run starts.")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plots_dock = self._dock("Plots", "plots_dock", waiting, bottom)
        inspector = getattr(w, "inspector_dock", None)
        if inspector is not None:  # three tabs on the right: Inspector (in front), Training, Runs
            w.tabifyDockWidget(inspector, self.panel_dock)
            w.tabifyDockWidget(self.panel_dock, self.runs_dock)
            inspector.raise_()
        for other in (getattr(w, "diagnostics_dock", None), getattr(w, "summary_dock", None)):
            if other is not None:
                w.tabifyDockWidget(other, self.plots_dock)
        diagnostics = getattr(w, "diagnostics_dock", None)
        if diagnostics is not None:
            diagnostics.raise_()

    def _panel_box(self) -> QWidget:
        """The training panel with the adaptation line under its run controls."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.adaptation)
        return box

    def _build_menu(self) -> None:
        bar = self.window.menuBar()
        menu = QMenu("&Train", self.window)
        actions = bar.actions()
        bar.insertMenu(actions[-1], menu) if actions else bar.addMenu(menu)
        self.actions: dict[str, QAction] = {}
        for key, text, slot, shortcut in (
                ("start", "&Start Training", self.start, "Ctrl+T"),
                ("pause", "&Pause / Resume", self.toggle_pause, "Ctrl+Shift+P"),
                ("stop", "S&top", self.stop, "Ctrl+Shift+T"),
                ("twin", "Train Plain &Twin", self.start_twin, ""),
                ("compare", "&Compare Depths (plain/residual × 20/56)", self.start_compare, ""),
                ("heat", "Gradient &Heat on Canvas", self.toggle_heat, ""),
                ("png", "Export Plot as PNG…", self.runs.export_png_dialog, ""),
                ("png_all", "Export All Plots as One PNG…", lambda: self.plots.save_dialog("all"), ""),
                ("csv", "Export Run Metrics as CSV…", self.runs.export_csv_dialog, ""),
                ("get_data", "&Get Data Set…", lambda: data_dialogs.open_get_dialog(self.window), ""),
                ("preview_data", "Pre&view Data Set…",
                 lambda: data_preview.preview_dataset(self.window, self.panel), "")):
            if key in ("twin", "heat", "png", "get_data"):
                menu.addSeparator()
            action = QAction(text, self.window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _c=False, s=slot: s())
            menu.addAction(action)
            self.window.addAction(action)
            self.actions[key] = action
        self.actions["heat"].setCheckable(True)
        self.actions["heat"].setChecked(True)
        menu.addSeparator()
        for dock in (self.panel_dock, self.runs_dock, self.plots_dock):
            menu.addAction(dock.toggleViewAction())
        self.menu = menu

    def _connect(self) -> None:
        p = self.panel
        p.start_button.clicked.connect(self.start)
        p.pause_button.clicked.connect(self.toggle_pause)
        p.stop_button.clicked.connect(self.stop)
        p.twin_button.clicked.connect(self.start_twin)
        p.compare_button.clicked.connect(lambda _checked=False: self.start_compare())
        self.runs.selection_changed.connect(self._on_selection)
        self.document.graph_replaced.connect(self._on_graph_replaced)
        p.path_source = lambda: self.document.path  # settings are remembered per graph file
        p.readiness_changed.connect(lambda: self._set_running(self.running))
        self.document.validated.connect(lambda report: p.set_graph_problem(graph_problem(report)))
        self.document.graph_replaced.connect(p.restore_settings)
        p.restore_settings()
        p.set_graph_problem(graph_problem(self.document.report()))
        self._set_running(False)

    def _connect_preview(self) -> None:
        """Recompute the adaptation line when the graph or the data settings change."""
        later = self._preview_timer.start
        self.document.validated.connect(lambda _report: later())
        self.document.graph_replaced.connect(later)
        self.panel.settings_changed.connect(later)
        for name, signal in (("dataset", "currentIndexChanged"), ("image_size", "valueChanged"),
                             ("data_dir", "textChanged")):
            widget = getattr(self.panel, name, None)
            if widget is not None and hasattr(widget, signal):
                getattr(widget, signal).connect(lambda *_a: later())
        later()

    def refresh_adaptation(self) -> Preview:
        """Show how a run would fit the current graph to the data set (before Start)."""
        preview = Preview()
        if self.document.report().ok:
            try:
                values = self.panel.values()
            except (ValueError, TypeError):
                values = {}
            preview = describe(self.document.graph, values, self.dataset)
        self.adaptation.show_preview(preview)
        return preview

    def list_saved_runs(self) -> int:
        """List the runs found in the runs folder (newest first; curves load when selected)."""
        return self.runs.list_saved([str(p) for p in runindex.scan(self.runs_root)])

    @property
    def plots(self) -> Any:
        return self.ensure_plots()

    def ensure_plots(self) -> Any:
        """The PlotsWidget (imports pyqtgraph and builds the plots the first time)."""
        if self._plots is None:
            from gui.training.plots import PlotsWidget

            self._plots = PlotsWidget()
            self.plots_dock.setWidget(self._plots)
        return self._plots

    # ------------------------------------------------------------------ starting
    @property
    def running(self) -> bool:
        return self.train_thread is not None

    def start(self) -> bool:
        """Train the current graph with the form's settings."""
        graph = self.document.graph
        return self._launch([(graph.name or "graph", graph)], "run")

    def start_twin(self) -> bool:
        """Train the current graph and its plain twin alike, overlaid (He et al.'s Figure 1)."""
        from builder.twin import plain_twin, residual_adds

        graph = self.document.graph
        if not residual_adds(graph):
            self.panel.show_error("This graph has no residual Add (no skip input to remove): "
                                  "its plain twin would be the same net.")
            return False
        return self._launch([(graph.name or "graph", graph), (f"{graph.name}-plain", plain_twin(graph))],
                            "twin")

    def start_compare(self, depths: tuple[tuple[str, int, bool], ...] = DEPTHS) -> bool:
        """Plain and residual CIFAR nets of depth 20 and 56 from the templates, on the form's data."""
        from builder import templates

        nets = [(name, templates.cifar_resnet(depth, residual=res)) for name, depth, res in depths]
        return self._launch(nets, "compare", check_document=False)

    def _launch(self, nets: list[tuple[str, Graph]], kind: str, check_document: bool = True) -> bool:
        if self.running:
            return False
        if check_document:
            self.panel.set_graph_problem(graph_problem(self.document.report()))
        if self.panel.start_reason() if check_document else self.panel.settings_reason():
            return False  # the reason is shown next to Start, and on the bad field
        config = self.panel.config()
        self.panel.show_error("")
        if self.dataset is None and not config.data_dir and \
                not data_dialogs.ensure_dataset(self.window, config.dataset):
            self.panel.show_error(f"{config.dataset} is not on this computer: download it (Train → Get "
                                  "Data Set…) or choose the folder with its files")
            return False
        if "torch" in sys.modules and not self.panel.device.probed:
            self.panel.device.refresh()
        self.panel.status.setText(" ")  # the previous run's description
        jobs, runs = [], []
        for k, (name, graph) in enumerate(nets):
            run, meta = self._new_run(name, graph, config, kind)
            run.color = meta["color"] = COLORS[(len(self.runs.runs) + k) % len(COLORS)]
            jobs.append(Job(name, graph.copy(), config, run.run_dir, meta=meta))
            runs.append(run)
        self.active = runs
        self.runs.add_runs(runs)
        self.heat.show_run(next((r for r in runs if self._on_canvas(r)), None))
        self._start_thread(jobs)
        return True

    def _new_run(self, net: str, graph: Graph, config: Any, kind: str) -> tuple[RunData, dict[str, Any]]:
        """A run named ``net · data set · #n`` (n counts this net's runs on that data) in a new folder."""
        dataset = self.dataset.name if self.dataset is not None else config.dataset
        number = runindex.next_number([r.name for r in self.runs.runs], net, dataset)
        name = runindex.display_name(net, dataset, number)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = self.runs_root / runindex.folder_name(stamp, net, dataset, number)
        while folder.exists():  # the worker may remove the folder of a run that never starts
            folder = folder.with_name(folder.name + "+")
        run = RunData(name, graph.name, config, kind=kind, run_dir=str(folder), device=config.device)
        meta = {"name": name, "net": net, "graph_name": graph.name, "kind": kind, "dataset": dataset,
                "number": number, "started": time.time()}
        return run, meta

    def _start_thread(self, jobs: list[Job]) -> None:
        processes = self.panel.device.processes()
        thread: TrainThread | ProcessRun = ProcessRun(jobs, processes, self) if processes > 1 else \
            TrainThread(jobs, self.dataset or self.warmup.dataset_for(jobs[0].config), self)
        thread.job_started.connect(self._on_job_started)
        thread.setup.connect(self._on_setup)
        thread.step.connect(lambda i, m: self.active[i].add_step(m))
        thread.epoch.connect(lambda i, m: self.active[i].add_epoch(m))
        thread.gradients.connect(lambda i, g: self.active[i].add_gradients(g))
        thread.health.connect(self._on_health)
        thread.job_finished.connect(self._on_job_finished)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self.train_thread = thread
        self.stop_asked = False
        self.clock.reset()
        self._set_running(True)
        self.plots_dock.raise_()
        self.panel.set_progress(0.0, "starting…")
        if self.switch_interval is not None:
            self._saved_switch = sys.getswitchinterval()
            sys.setswitchinterval(min(self._saved_switch, self.switch_interval))
        thread.start()
        self.timer.start()

    # ------------------------------------------------------------------ control
    def toggle_pause(self) -> None:
        if self.train_thread is None:
            return
        if self.train_thread.paused:
            self.train_thread.resume()
            self.clock.resume(self.train_thread.current)
        else:
            self.train_thread.pause()
            self.clock.pause()
        for run in self.active:
            if run.status in ("running", "paused"):
                run.status = "paused" if self.train_thread.paused else "running"
                run.version += 1
        self._set_running(True)

    def stop(self) -> None:
        if self.train_thread is not None:
            self.stop_asked = True
            self.train_thread.stop()
            self.panel.set_progress(self.panel.progress.value() / 1000, "stopping…")

    def stop_and_wait(self, timeout_ms: int = 10000) -> bool:
        """Stop the run and wait for its thread (True when it ended in time)."""
        thread = self.train_thread
        if thread is None:
            return True
        thread.stop()
        done = thread.wait(timeout_ms)
        if done:
            self._on_thread_finished()
        return done

    def toggle_heat(self) -> None:
        self.heat.enabled = self.actions["heat"].isChecked()
        self.heat.show_run(self.heat.run)

    def _set_running(self, running: bool) -> None:
        paused = bool(self.train_thread and self.train_thread.paused)
        self.panel.set_running(running, paused)
        p = self.panel
        for key, button in (("start", p.start_button), ("twin", p.twin_button),
                            ("compare", p.compare_button)):
            self.actions[key].setEnabled(button.isEnabled())  # a bad setting or graph disables both
            self.actions[key].setToolTip(button.toolTip())
            self.actions[key].setStatusTip(button.toolTip() if not button.isEnabled() else "")
        self.actions["pause"].setEnabled(running)
        self.actions["stop"].setEnabled(running)

    # ------------------------------------------------------------------ thread signals
    def _on_job_started(self, index: int, info: JobStart) -> None:
        run = self.active[index]
        run.status = "paused" if self.train_thread and self.train_thread.paused else "running"
        run.device, run.notes = info.device, info.notes
        run.set_blocks(info.block_ids, info.block_types)
        self.clock.job_started(index)
        compiling = "\ntorch.compile: compiling on the first step…" if run.config.compile else ""
        self.panel.status.setText(f"{run.name}: {info.data}{compiling}")

    def _on_setup(self, index: int, setup: Any) -> None:
        """How the run computes (precision auto → bf16, compile time), under the progress bar."""
        run = self.active[index]
        run.device = setup.short()
        run.version += 1
        self.panel.status.setText(f"{run.name}: {setup.data}\n{setup.describe()}")

    def _on_health(self, index: int, finding: Any) -> None:
        """A stall or blow-up seen mid-run: a marker in the plots and the advice under the bar now,
        not only when the run ends."""
        run = self.active[index]
        run.health.append(finding)
        run.version += 1
        self.panel.status.setText(f"⚠ {run.name}: {finding.message}")

    def _on_job_finished(self, index: int, result: Any) -> None:
        run = self.active[index]
        run.status, run.error, run.bad_block = result.status, result.error, result.bad_block
        run.seconds, run.health = result.seconds, list(result.health)
        run.version += 1
        unwell = [r for r in self.active if r.health]
        if unwell:  # non-finite, divergence, stalls: advice under the progress bar, markers in the plots
            self.panel.status.setText("\n".join(f"⚠ {r.name}: {r.error}" for r in unwell))
        if result.status == "diverged":
            QMessageBox.warning(self.window, "Training stopped: the loss diverged",
                                f"{run.name}: {result.error}")
        if result.status == "non_finite":
            text = f"{run.name}: {result.error}.\n{EXPLODED_HINT}"
            self.panel.show_error(text)
            if result.bad_block and result.bad_block in self.document.graph:
                self.window.canvas.center_on_block(result.bad_block)
            QMessageBox.warning(self.window, "Training stopped: non-finite values", text)

    def _on_failed(self, index: int, message: str, user_error: bool) -> None:
        run = self.active[index] if 0 <= index < len(self.active) else None
        if run is not None and run.steps.seen:
            run.status, run.error = "failed", message
            run.version += 1
        self.panel.show_error(message)  # a run that never started is this message only
        if not user_error:
            QMessageBox.critical(self.window, "Training failed", message)

    def _on_thread_finished(self) -> None:
        if self.train_thread is None:
            return
        self.train_thread = None
        if self._saved_switch is not None:
            sys.setswitchinterval(self._saved_switch)
            self._saved_switch = None
        self.runs.remove_runs([r for r in self.active if not r.steps.seen])  # never started
        for run in self.active:
            if run.status in ("queued", "running", "paused"):
                run.status = "stopped"
                run.version += 1
        self.timer.stop()
        self.tick()
        self.heat.refresh(force=True)
        self._set_running(False)
        self.all_finished.emit()

    def _on_graph_replaced(self) -> None:
        """Another graph: the last run's description and bar no longer apply to it."""
        self.heat.show_run(None)
        if self.train_thread is None:
            self.active = []
            self.panel.status.setText(" ")
            self.panel.set_progress(0.0, "idle")

    # ------------------------------------------------------------------ redraw (≤ 10 Hz)
    def tick(self) -> None:
        if self._plots is not None:
            self._plots.refresh()
        self.heat.refresh()
        for run in self.runs.runs:
            if self._row_versions.get(id(run)) != run.version:
                self._row_versions[id(run)] = run.version
                self.runs.update_run(run)
        self._show_progress()

    def _show_progress(self) -> None:
        if self.train_thread is None:
            fraction, text = finished_text([r for r in self.active if r in self.runs.runs],
                                           len(self.active) if self.stop_asked else 0)
            kept = self.panel.progress.value() / 1000  # where the bar stopped
            self.panel.set_progress(kept if fraction is None else fraction, text)
            return
        index = self.train_thread.current
        if not 0 <= index < len(self.active) or self.active[index].last_step is None:
            return
        self.panel.set_progress(*running_text(self.active[index], index, len(self.active),
                                              self.training_seconds(index), self.train_thread.paused))

    def training_seconds(self, index: int) -> float:
        """Seconds job ``index`` has been training, paused time left out."""
        return self.clock.seconds(index, self.train_thread.current if self.train_thread is not None else -1)

    def _on_selection(self, runs: list[RunData]) -> None:
        for run in runs:
            try:
                run.ensure_loaded()  # runs listed from disk read their curves now
            except ValueError as exc:
                run.error, run.loaded = str(exc), True
                self.panel.show_error(str(exc))
        self.plots.show_runs(runs)
        if len(runs) == 1 and self._on_canvas(runs[0]):
            self.heat.show_run(runs[0])

    def _on_canvas(self, run: RunData) -> bool:
        """Whether ``run`` trained the graph on the canvas (so its heat can tint the blocks)."""
        return run.kind != "compare" or run.graph_name == self.document.graph.name

    # ------------------------------------------------------------------ closing
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close and self.running:
            answer = QMessageBox.question(self.window, "Training in progress",
                                          "A training run is in progress. Stop it and close the window?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return True
            self.stop_and_wait()
        return False

