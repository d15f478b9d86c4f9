"""Gradient-split panel: skip vs branch gradient at every Add, by depth, over training.

The samples come from a run folder's ``xray_split.csv`` (written by ``main.py xray``/``split``
or by *Record*), or live from *Record*, which trains the graph being edited for a few epochs
(``main.py compare``'s recipe) with the split probe on. *Show on canvas* draws each unit's skip
wires thicker the larger the skip path's share of the gradient (last epoch's mean).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder.graph import Graph
from gui.xray.jobs import Job, dataset, finish
from gui.xray.overlay import SkipOverlay, widths
from gui.xray.widgets import FigureView, JobBar, RunField

LIVE_MS = 700


def runs_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".skipwire") / "runs"


def shares(samples: list[Any]) -> dict[str, float]:
    """Each unit's skip share ‖skip‖ / (‖skip‖ + ‖branch‖), mean over the last epoch's samples."""
    import numpy as np

    if not samples:
        return {}
    last = max(s.epoch for s in samples)
    group = [s for s in samples if s.epoch == last]
    skip = np.mean([s.skip for s in group], axis=0)
    branch = np.mean([s.branch for s in group], axis=0)
    share = skip / np.maximum(skip + branch, 1e-30)
    return dict(zip(group[0].labels, share.tolist(), strict=True))


def record_work(graph: Graph, dataset_name: str, epochs: int, run_dir: Path, sink: list[Any],
                lock: threading.Lock) -> Any:
    """The job: train ``graph`` with the split probe; samples go to ``sink`` as they come."""

    def work(progress: Any, should_stop: Any) -> Any:
        from builder.training.adapt import adapt_graph
        from builder.training.compare import COMPARE_DEFAULTS
        from builder.training.config import TrainConfig
        from builder.training.trainer import Trainer
        from builder.xray.runs import SPLIT_CSV
        from builder.xray.split import SplitProbe, write_csv

        config = TrainConfig(**{**COMPARE_DEFAULTS, "dataset": dataset_name, "epochs": epochs,
                                "device": "cpu"})  # type: ignore[arg-type]
        data = dataset(config)
        fitted, _ = adapt_graph(graph, data.input_shape, data.num_classes)

        def keep(sample: Any) -> None:
            with lock:
                sink.append(sample)

        probe = SplitProbe(on_sample=keep)
        trainer = Trainer(fitted, config, data, run_dir=str(run_dir), split_probe=probe,
                          on_epoch=lambda m: progress(m.epoch, m.epochs))
        ended = threading.Event()
        threading.Thread(target=_watch, args=(trainer, should_stop, ended), daemon=True).start()
        try:
            result = trainer.run()
        finally:
            ended.set()
        write_csv(probe.samples, probe.units, run_dir / SPLIT_CSV)
        return result.status
    return work


def _watch(trainer: Any, should_stop: Any, ended: threading.Event) -> None:
    """Turn the job's Stop into the trainer's stop (the trainer checks before every step)."""
    while not ended.wait(0.1):
        if should_stop():
            trainer.stop()
            return


def _graph_name(folder: Path) -> str:
    """The run's graph name (from its graph.json), else the folder's name."""
    from builder import fileformat

    try:
        return fileformat.load(folder / "graph.json").name
    except (fileformat.GraphFileError, OSError):
        return folder.name


class SplitPanel(QWidget):
    """Loads or records split samples; plots them; thickens skip wires on the canvas."""

    def __init__(self, document: Any, canvas: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.canvas = document, canvas
        self.samples: list[Any] = []
        self.job: Job | None = None
        self._lock = threading.Lock()
        self._live: list[Any] = []
        self.run = RunField("Run", lambda: str(runs_root()))
        self.load_button = QPushButton("Load")
        self.data_choice = QComboBox()
        self.data_choice.addItems(["digits", "synthetic"])
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(5)
        self.record_button = QPushButton("Record")
        self.record_button.setToolTip("Train the graph being edited with the split probe on")
        self.on_canvas = QCheckBox("Show on canvas")
        self.on_canvas.setChecked(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.jobbar = JobBar()
        self.view = FigureView("Load a run folder recorded with the split probe, or Record one.")
        self.overlay = SkipOverlay(canvas)
        self._timer = QTimer(self, interval=LIVE_MS)
        self._timer.timeout.connect(self._pull)
        self._layout()
        self.load_button.clicked.connect(lambda _c=False: self.load())
        self.record_button.clicked.connect(lambda _c=False: self.record())
        self.on_canvas.toggled.connect(lambda _on: self.show_on_canvas())

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.run, 1)
        top.addWidget(self.load_button)
        rec = QHBoxLayout()
        for w in (QLabel("Record on"), self.data_choice, QLabel("epochs"), self.epochs,
                  self.record_button, self.on_canvas):
            rec.addWidget(w)
        rec.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rec)
        layout.addWidget(self.summary)
        layout.addWidget(self.jobbar)
        layout.addWidget(self.view, 1)

    def load(self, folder: str | None = None) -> None:
        from builder.xray.runs import SPLIT_CSV
        from builder.xray.split import read_csv

        path = Path(folder or self.run.path())
        if not (path / SPLIT_CSV).is_file():
            self.jobbar.say(f"{path}: no {SPLIT_CSV} in this folder (record it with the split probe)", True)
            return
        try:
            samples = read_csv(path / SPLIT_CSV)
        except (OSError, UnicodeDecodeError) as exc:
            self.jobbar.say(f"{path / SPLIT_CSV}: cannot read ({exc})", True)
            return
        self.show_samples(samples, _graph_name(path))

    def record(self) -> None:
        from builder.xray.structure import residual_units

        graph = self.document.graph.copy()
        if not self.document.report().ok or not residual_units(graph):
            self.jobbar.say("The graph needs to be valid and have a residual Add (an Add with a "
                            "skip input) to record a gradient split.", True)
            return
        if self.job is not None and self.job.isRunning():
            return
        run_dir = runs_root() / f"{graph.name}-split-{time.strftime('%Y%m%d-%H%M%S')}"
        self._live = []
        self.job = Job(record_work(graph, self.data_choice.currentText(), self.epochs.value(), run_dir,
                                   self._live, self._lock))
        self.job.done.connect(lambda status, d=run_dir: self._recorded(status, d))
        self.job.failed.connect(lambda msg, _u: self.jobbar.say(msg, True))
        self.job.finished.connect(self._timer.stop)
        self.jobbar.attach(self.job, f"Training {graph.name} with the split probe into {run_dir}…")
        self.run.set_path(run_dir)
        self._timer.start()
        self.job.start()

    def _pull(self) -> None:
        with self._lock:
            samples = list(self._live)
        if samples and len(samples) != len(self.samples):
            self.show_samples(samples, self.document.graph.name)

    def _recorded(self, status: str, run_dir: Path) -> None:
        self._pull()
        self.jobbar.say(f"Recorded {len(self.samples)} steps ({status}) in {run_dir}")

    def show_samples(self, samples: list[Any], name: str) -> None:
        from builder.xray.lab import split_text

        self.samples, self._name = samples, name
        self.summary.setText(split_text(samples))
        self.view.redraw(self._draw)
        self.show_on_canvas()

    def _draw(self, figure: Any) -> None:
        from builder.xray.plots import draw_split, draw_split_norms

        ax1, ax2 = figure.subplots(1, 2)
        draw_split(ax1, self.samples, self._name)
        draw_split_norms(ax2, self.samples, self._name)

    def show_on_canvas(self) -> None:
        if self.on_canvas.isChecked() and self.samples:
            self.overlay.show(widths(shares(self.samples), self.document.graph))
        else:
            self.overlay.clear()

    def shutdown(self) -> None:
        self._timer.stop()
        finish(self.job, 60_000)
