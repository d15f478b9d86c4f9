"""The lesion and landscape panels: two trained runs side by side (a plain net and its ResNet).

Each takes up to two run folders (either may be left empty), runs in a :class:`Job` with a
progress bar and Stop, and draws with the same functions as ``main.py lesion``/``landscape``.
The landscape redraws its heat maps as rows of the grid come in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.xray.jobs import Job, finish
from gui.xray.split_panel import runs_root
from gui.xray.widgets import FigureView, JobBar, RunField

LIVE_MS = 1000


def load_runs(paths: list[str]) -> list[tuple[Any, Any]]:
    """``(Run, dataset)`` for each folder (in the worker thread)."""
    from builder.xray.runs import load_run
    from gui.xray.jobs import dataset

    runs = [load_run(p) for p in paths]
    return [(run, dataset(run.config)) for run in runs]


class RunsPanel(QWidget):
    """Two run fields, a start button, a job bar, a figure and a text summary."""

    button_text = "Run"
    placeholder = ""
    busy_text = "Working…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        start = lambda: str(runs_root())
        self.fields = [RunField("A", start), RunField("B", start)]
        self.fields[0].edit.setPlaceholderText("run folder of the plain net (optional)")
        self.fields[1].edit.setPlaceholderText("run folder of the residual net")
        self.start_button = QPushButton(self.button_text)
        self.options = QHBoxLayout()
        self.jobbar = JobBar()
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setPlaceholderText("What the study found, in numbers.")
        self.view = FigureView(self.placeholder)
        self.job: Job | None = None
        self.results: list[Any] = []
        layout = QVBoxLayout(self)
        for field in self.fields:
            layout.addWidget(field)
        self.options.addStretch(1)
        self.options.addWidget(self.start_button)
        layout.addLayout(self.options)
        layout.addWidget(self.jobbar)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.summary)
        split.addWidget(self.view)
        split.setSizes([330, 900])
        layout.addWidget(split, 1)
        self.start_button.clicked.connect(lambda _c=False: self.start())

    def paths(self) -> list[str]:
        return [f.path() for f in self.fields if f.path()]

    def start(self) -> None:
        paths = self.paths()
        if not paths:
            self.jobbar.say("Choose at least one run folder.", True)
            return
        if self.job is not None and self.job.isRunning():
            return
        self.results = []
        self.job = Job(self.work(paths))
        self.job.done.connect(self._done)
        self.job.failed.connect(lambda message, _user: self.jobbar.say(message, True))
        self.job.finished.connect(lambda: self.start_button.setEnabled(True))
        self.start_button.setEnabled(False)
        self.jobbar.attach(self.job, self.busy_text)
        self.job.start()

    def work(self, paths: list[str]) -> Callable[[Any, Any], Any]:
        raise NotImplementedError

    def _done(self, results: list[Any]) -> None:
        self.results = results
        self.summary.setPlainText("\n".join(r.text() for r in results))
        status = "stopped" if any(r.status == "stopped" for r in results) else "done"
        seconds = self.job.seconds if self.job is not None else 0.0
        self.jobbar.say(f"{status} in {seconds:.1f} s")
        self.view.redraw(self.draw)

    def draw(self, figure: Any) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        finish(self.job)


class LesionPanel(RunsPanel):
    """Veit et al.'s lesion study of one or two trained nets."""

    button_text = "Run lesion study"
    busy_text = "Evaluating the validation set with each block deleted in turn…"
    placeholder = "Validation error after deleting each block appears here, plain and residual side by side."

    def work(self, paths: list[str]) -> Callable[[Any, Any], Any]:
        def run(progress: Any, should_stop: Any) -> list[Any]:
            from builder.validate import validate
            from builder.xray.lesion import lesion
            from builder.xray.structure import lesion_units

            loaded = load_runs(paths)
            total = sum(1 + sum(u.ok for u in lesion_units(r.graph, validate(r.graph))) for r, _ in loaded)
            done, results = 0, []
            for run_, data in loaded:
                base = done
                tick = lambda d, _t, b=base: progress(b + d, total)
                results.append(lesion(run_.graph, run_.module, data.x_val, data.y_val, on_progress=tick,
                                      should_stop=should_stop))
                done = base + 1 + len(results[-1].deleted)
                progress(done, total)
            return results
        return run

    def draw(self, figure: Any) -> None:
        from builder.xray.plots import COLORS, draw_lesion, lesion_ymax

        axes = figure.subplots(1, len(self.results), squeeze=False)[0]
        top = lesion_ymax(self.results)
        for k, (ax, result) in enumerate(zip(axes, self.results, strict=True)):
            draw_lesion(ax, result, COLORS[k % len(COLORS)], top)


class LandscapePanel(RunsPanel):
    """Li et al.'s 2-D loss landscape of one or two trained nets."""

    button_text = "Compute landscape"
    busy_text = "Evaluating the loss at each grid point (the heat maps fill in row by row)…"
    placeholder = "Contours and a heat map of the loss around each trained net appear here."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points = QSpinBox()
        self.points.setRange(3, 101)
        self.points.setValue(21)
        self.samples = QSpinBox()
        self.samples.setRange(16, 100_000)
        self.samples.setValue(512)
        for i, w in enumerate((QLabel("Grid"), self.points, QLabel("Images"), self.samples)):
            self.options.insertWidget(i, w)
        self._partial: list[Any] = []  # (name, alphas, loss grid) of the nets started so far
        self._lock = threading.Lock()
        self._timer = QTimer(self, interval=LIVE_MS)
        self._timer.timeout.connect(self._live)

    def start(self) -> None:
        self._partial = []
        super().start()
        if self.job is not None and self.job.isRunning():
            self.job.finished.connect(self._timer.stop)
            self._timer.start()

    def work(self, paths: list[str]) -> Callable[[Any, Any], Any]:
        points, samples = self.points.value(), self.samples.value()

        def run(progress: Any, should_stop: Any) -> list[Any]:
            from builder.xray.landscape import grid, landscape, subset

            loaded = load_runs(paths)
            total, results = points * points * len(loaded), []
            for k, (run_, data) in enumerate(loaded):
                if should_stop():
                    break
                x, y = subset(data.x_train, data.y_train, samples)
                with self._lock:
                    self._partial.append((run_.name, grid(points, 1.0), None))
                keep = lambda loss, k=k: self._keep(k, loss)
                tick = lambda d, _t, b=k * points * points: progress(b + d, total)
                results.append(landscape(run_.module, x, y, points=points, name=run_.name,
                                         on_progress=tick, should_stop=should_stop, on_row=keep))
            return results
        return run

    def _keep(self, k: int, loss: Any) -> None:
        with self._lock:
            name, axis, _ = self._partial[k]
            self._partial[k] = (name, axis, loss.copy())

    def _live(self) -> None:
        from builder.xray.landscape import Landscape

        with self._lock:
            partial = [p for p in self._partial if p[2] is not None]
        if partial:
            self.results = [Landscape(name, axis, axis, loss, loss * 0) for name, axis, loss in partial]
            self.view.redraw(self.draw)

    def draw(self, figure: Any) -> None:
        from builder.xray.plots import draw_lines, draw_surface, shared_levels

        lands = self.results
        axes = figure.subplots(1, 1 + len(lands), squeeze=False)[0]
        draw_lines(axes[0], lands)
        low, high = shared_levels(lands)
        image = None
        for ax, land in zip(axes[1:], lands, strict=True):
            image = draw_surface(ax, land, low, high)
        if image is not None:
            figure.colorbar(image, ax=list(axes[1:]), shrink=0.8, label="log₁₀ loss")
