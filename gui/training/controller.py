"""Glue between the main window and training: docks, the Train menu, runs, plots and heat.

One :class:`TrainingController` per window. Start (the current graph), *Train plain twin*
(the graph and :func:`builder.twin.plain_twin` of it) and *Compare depths* (plain/residual ×
20/56 from the templates, fitted to the data set like ``main.py compare``) each queue jobs on
one :class:`~gui.training.worker.TrainThread`; its queued signals update
:class:`~gui.training.history.RunData` objects, and a 10 Hz timer redraws the plots, the
progress bar, the runs list and the canvas heat. Closing the window during a run asks first,
then stops the run and waits for the thread.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from builder.graph import Graph
from gui.training.heat import CanvasHeat
from gui.training.history import COLORS, RunData
from gui.training.panel import TrainingPanel
from gui.training.runs import RunsWidget
from gui.training.worker import Job, JobStart, TrainThread

REDRAW_MS = 100  # plots, progress and heat redraw at most 10 times a second
# Optional GIL switch interval while training (None = Python's 5 ms). Each Qt → Python call on the
# GUI thread may wait one interval for the trainer; on the busy 2-core machine 1 ms vs 5 ms gave
# no clear p99 difference (bench/bench_gui_latency.py --switch-ms), so it is left alone.
SWITCH_INTERVAL_S: float | None = None
DEPTHS = (("plain-20", 20, False), ("plain-56", 56, False), ("resnet-20", 20, True),
          ("resnet-56", 56, True))
EXPLODED_HINT = ("Gradients exploded. Try gradient clipping (by norm, threshold 1) or a smaller "
                 "learning rate. The run's data so far is kept.")


def default_runs_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".skipwire") / "runs"


class TrainingController(QObject):
    """Owns the training docks and the run in progress for one main window."""

    all_finished = Signal()  # the thread of a Start/twin/compare ended

    def __init__(self, window: QMainWindow, runs_root: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document  # type: ignore[attr-defined]
        self.runs_root = runs_root or default_runs_root()
        self.dataset: Any = None  # a ready Dataset overrides the form's data set (tests, benches)
        self.train_thread: TrainThread | None = None
        self.active: list[RunData] = []
        self._job_started: dict[int, float] = {}
        self._row_versions: dict[int, int] = {}
        self._count = 0
        self.switch_interval: float | None = SWITCH_INTERVAL_S  # None leaves Python's setting alone
        self._saved_switch: float | None = None
        self.panel = TrainingPanel()
        self._plots: Any = None  # PlotsWidget, built on first use (pyqtgraph costs ~1 s to import)
        self.runs = RunsWidget(self.ensure_plots)
        self.runs.runs_root = str(self.runs_root)
        self.heat = CanvasHeat(window.canvas)  # type: ignore[attr-defined]
        self.timer = QTimer(self, interval=REDRAW_MS)
        self.timer.timeout.connect(self.tick)
        self._build_docks()
        self._build_menu()
        self._connect()
        window.installEventFilter(self)

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
        self.panel_dock = self._dock("Training", "training_dock", self.panel, right)
        self.runs_dock = self._dock("Runs", "runs_dock", self.runs, right)
        waiting = QLabel("Plots appear here when a run starts.")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plots_dock = self._dock("Plots", "plots_dock", waiting, bottom)
        inspector = getattr(w, "inspector_dock", None)
        if inspector is not None:
            w.tabifyDockWidget(inspector, self.panel_dock)
            inspector.raise_()
        w.splitDockWidget(self.panel_dock, self.runs_dock, Qt.Orientation.Vertical)
        for other in (getattr(w, "diagnostics_dock", None), getattr(w, "summary_dock", None)):
            if other is not None:
                w.tabifyDockWidget(other, self.plots_dock)
        diagnostics = getattr(w, "diagnostics_dock", None)
        if diagnostics is not None:
            diagnostics.raise_()

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
                ("csv", "Export Run Metrics as CSV…", self.runs.export_csv_dialog, "")):
            if key in ("twin", "heat", "png"):
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
        p.compare_button.clicked.connect(self.start_compare)
        self.runs.selection_changed.connect(self._on_selection)
        self.document.graph_replaced.connect(lambda: self.heat.show_run(None))
        self._set_running(False)

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
        try:
            config = self.panel.config()
        except ValueError as exc:
            self.panel.show_error("\n".join(getattr(exc, "problems", [str(exc)])))
            return False
        if check_document and not self.document.report().ok:
            first = self.document.report().errors[0]
            self.panel.show_error(f"The graph has errors; fix them first: {first.block_id}: {first.message}")
            return False
        self.panel.show_error("")
        if "torch" in sys.modules and not self.panel.device.probed:
            self.panel.device.refresh()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        jobs, runs = [], []
        for name, graph in nets:
            self._count += 1
            run_dir = str(self.runs_root / f"{stamp}-{self._count:03d}-{name}")
            jobs.append(Job(name, graph.copy(), config, run_dir))
            runs.append(RunData(name, graph.name, config, kind=kind, run_dir=run_dir, device=config.device,
                                color=COLORS[(self._count - 1) % len(COLORS)]))
        self.active = runs
        self.runs.add_runs(runs)
        self.heat.show_run(next((r for r in runs if self._on_canvas(r)), None))
        self._start_thread(jobs)
        return True

    def _start_thread(self, jobs: list[Job]) -> None:
        thread = TrainThread(jobs, self.dataset, self, threads=self.panel.cpu_threads.value())
        thread.job_started.connect(self._on_job_started)
        thread.step.connect(lambda i, m: self.active[i].add_step(m))
        thread.epoch.connect(lambda i, m: self.active[i].add_epoch(m))
        thread.gradients.connect(lambda i, g: self.active[i].add_gradients(g))
        thread.job_finished.connect(self._on_job_finished)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self.train_thread = thread
        self._job_started.clear()
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
        else:
            self.train_thread.pause()
        for run in self.active:
            if run.status in ("running", "paused"):
                run.status = "paused" if self.train_thread.paused else "running"
                run.version += 1
        self._set_running(True)

    def stop(self) -> None:
        if self.train_thread is not None:
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
        self.actions["start"].setEnabled(not running)
        self.actions["twin"].setEnabled(not running)
        self.actions["compare"].setEnabled(not running)
        self.actions["pause"].setEnabled(running)
        self.actions["stop"].setEnabled(running)

    # ------------------------------------------------------------------ thread signals
    def _on_job_started(self, index: int, info: JobStart) -> None:
        run = self.active[index]
        run.status = "paused" if self.train_thread and self.train_thread.paused else "running"
        run.device, run.notes = info.device, info.notes
        run.set_blocks(info.block_ids, info.block_types)
        self._job_started[index] = time.perf_counter()
        self.panel.status.setText(f"{run.name}: {info.data}")

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
                self.window.canvas.center_on_block(result.bad_block)  # type: ignore[attr-defined]
            QMessageBox.warning(self.window, "Training stopped: non-finite values", text)

    def _on_failed(self, index: int, message: str, user_error: bool) -> None:
        run = self.active[index] if 0 <= index < len(self.active) else None
        if run is not None:
            run.status, run.error = "failed", message
            run.version += 1
        self.panel.show_error(message)
        if not user_error:
            QMessageBox.critical(self.window, "Training failed", message)

    def _on_thread_finished(self) -> None:
        if self.train_thread is None:
            return
        self.train_thread = None
        if self._saved_switch is not None:
            sys.setswitchinterval(self._saved_switch)
            self._saved_switch = None
        for run in self.active:
            if run.status in ("queued", "running", "paused"):
                run.status = "stopped"
                run.version += 1
        self.timer.stop()
        self.tick()
        self.heat.refresh(force=True)
        self._set_running(False)
        self.all_finished.emit()

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
            done = [r for r in self.active if r.status == "completed"]
            text = f"done: {len(done)}/{len(self.active)} completed" if self.active else "idle"
            text += _health_note(self.active)
            self.panel.set_progress(1.0 if done else self.panel.progress.value() / 1000, text)
            return
        index = self.train_thread.current
        if not 0 <= index < len(self.active) or self.active[index].last_step is None:
            return
        run, m = self.active[index], self.active[index].last_step
        total = run.config.epochs * m.batches
        done = (m.epoch - 1) * m.batches + m.batch
        elapsed = time.perf_counter() - self._job_started.get(index, time.perf_counter())
        left = elapsed / max(done, 1) * (total - done)
        prefix = f"{run.name} ({index + 1}/{len(self.active)}) · " if len(self.active) > 1 else ""
        state = " · paused" if self.train_thread.paused else ""
        self.panel.set_progress(done / max(total, 1), f"{prefix}epoch {m.epoch}/{run.config.epochs} · "
                                f"step {m.batch}/{m.batches} · {m.images_per_s:,.0f} img/s · "
                                f"{_clock(left)} left{state}")

    def _on_selection(self, runs: list[RunData]) -> None:
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


def _health_note(runs: list[RunData]) -> str:
    """" · 1 diverged · 1 with warnings" for the progress bar after the runs ended."""
    counts = {"diverged": sum(r.status == "diverged" for r in runs),
              "non-finite": sum(r.status == "non_finite" for r in runs),
              "with warnings": sum(bool(r.warning) and r.status in ("completed", "stopped") for r in runs)}
    return "".join(f" · {n} {what}" for what, n in counts.items() if n)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"
