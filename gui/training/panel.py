"""The training dock: the settings form, Start/Pause/Stop, twin and compare, progress.

The form (:class:`~gui.training.form.SettingsForm`) is generated from the settings' single
description and checked on every edit. Whatever stops a run from starting — a bad setting or
an error in the graph (:meth:`TrainingPanel.set_graph_problem`) — is written right above the
Start button, the bad field is outlined in red, and Start is disabled with the reason as its
tooltip (Compare depths trains templates, so only bad settings disable it). The settings are
remembered in QSettings per graph file (and as "the last used" for unsaved graphs) and restored
when that file is opened again; :meth:`TrainingPanel.apply_config` fills the form from a run's
config. The device list starts with the CPU and Auto; CUDA devices (index, name, memory) and
MPS are added the first time the list is opened or a run starts, so the window does not import
torch at start-up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from builder.training.config import ConfigError, TrainConfig
from builder.validate import Report
from gui.training.devices import DeviceCombo
from gui.training.form import SettingsForm

MEMORY = "training_form"  # QSettings group: "last" and one key per graph file
FORM_VERSION = 2  # 2: precision auto and channels-last on by default (issue 15)
FAST_DEFAULTS = ("precision", "channels_last")  # not restored from memories of version 1
TIPS = {"start": "Train this graph with these settings (Ctrl+T)",
        "twin": "Train this graph and its copy without shortcuts, alike, overlaid",
        "compare": "plain-20, plain-56, ResNet-20, ResNet-56 on this data set"}


def graph_problem(report: Report) -> str | None:
    """Why the graph cannot be trained (its first error, naming the block), or None."""
    if report.ok:
        return None
    errors = report.errors
    first = errors[0]
    where = f"block {first.block_id}: " if first.block_id else ""
    more = f" (and {len(errors) - 1} more: see Diagnostics)" if len(errors) > 1 else ""
    return f"Fix the graph first — {where}{first.message}{more}"


def memory_key(path: Path | None) -> str:
    """The QSettings key of the settings remembered for a graph file (or the last used)."""
    if path is None:
        return f"{MEMORY}/last"
    digest = hashlib.sha1(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:20]
    return f"{MEMORY}/files/{digest}"


class TrainingPanel(QWidget):
    """The form and the run controls; the controller connects the buttons."""

    settings_changed = Signal()
    readiness_changed = Signal()  # what blocks Start / Compare changed

    def __init__(self, parent: QWidget | None = None, store: QSettings | None = None) -> None:
        super().__init__(parent)
        self.form = SettingsForm()
        self.store = store
        self.path_source: Callable[[], Path | None] = lambda: None  # the graph file shown
        self._graph_problem: str | None = None
        self._message = ""
        self._running = self._paused = False
        self._reasons: tuple[str | None, str | None] = (None, None)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QFrame.Shape.NoFrame)
        self.form_area.setWidget(self.form)
        self._build_controls()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.form_area, 1)
        layout.addWidget(self.error)
        for row in self._button_rows:
            layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.form.changed.connect(self._on_form_changed)
        self._update()

    def _build_controls(self) -> None:
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.twin_button = QPushButton("Train plain twin")
        self.compare_button = QPushButton("Compare depths")
        first, second = QHBoxLayout(), QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            first.addWidget(b)
        for b in (self.twin_button, self.compare_button):
            second.addWidget(b)
        self._button_rows = (first, second)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.status = QLabel(" ")
        self.status.setWordWrap(True)

    # ------------------------------------------------------------------ the form
    @property
    def device(self) -> DeviceCombo:
        return self.form.editors["device"]  # type: ignore[no-any-return]

    def widget(self, name: str) -> QWidget:
        """The editor of setting ``name``."""
        return self.form.editors[name]  # type: ignore[no-any-return]

    def values(self) -> dict[str, Any]:
        """The form as TrainConfig keyword arguments."""
        return self.form.values()

    def config(self) -> TrainConfig:
        """A validated TrainConfig; raises ConfigError (its reasons are shown next to Start)."""
        return self.form.config()

    def set_values(self, **values: Any) -> None:
        """Set form fields by TrainConfig name (tests, scripted runs)."""
        self.form.set_values(**values)

    def apply_config(self, config: TrainConfig) -> None:
        """Fill the form from ``config`` (e.g. a past run's settings)."""
        self.form.set_values(**config.to_dict())

    def _on_form_changed(self) -> None:
        self.remember()
        self._update()
        self.settings_changed.emit()

    # ------------------------------------------------------------------ memory
    def _settings(self) -> QSettings:
        if self.store is None:
            from gui.files import settings

            self.store = settings()
        return self.store

    def remember(self) -> None:
        """Keep valid settings as the last used and as this graph file's."""
        try:
            data = self.form.config().to_dict()
        except ConfigError:
            return
        data.update(_form=FORM_VERSION, _processes=self.device.processes())
        text = json.dumps(data, indent=2)
        store, path = self._settings(), self.path_source()
        store.setValue(memory_key(None), text)
        if path is not None:
            store.setValue(memory_key(path), text)

    def restore_settings(self) -> None:
        """The settings remembered for the graph file shown (else the last used), if any."""
        store, path = self._settings(), self.path_source()
        stored = store.value(memory_key(path)) if path is not None else None
        stored = stored or store.value(memory_key(None))
        try:
            data = json.loads(str(stored)) if stored else None
        except ValueError:
            return
        if isinstance(data, dict):
            self.restore_memory(data)

    def restore_memory(self, data: dict[str, Any]) -> None:
        """Fill the form from remembered settings. Those remembered before the fast defaults
        (precision fp32 and channels-last off were then the only CPU choice, not a person's)
        keep the new defaults for those two."""
        if data.get("_form") != FORM_VERSION:
            data = {k: v for k, v in data.items() if k not in FAST_DEFAULTS}
        self.form.restore(data)
        processes = data.get("_processes")
        if isinstance(processes, int) and processes > 1:
            self.device.set_processes(processes)

    # ------------------------------------------------------------------ what blocks a run
    def settings_reason(self) -> str | None:
        """Why no run can start with these settings, one line per bad setting, or None."""
        lines = self.form.problem_lines()
        return "\n".join(lines) if lines else None

    def start_reason(self) -> str | None:
        """Why Start (and Train plain twin) cannot run: bad settings or an error in the graph."""
        reasons = [r for r in (self.settings_reason(), self._graph_problem) if r]
        return "\n".join(reasons) if reasons else None

    def set_graph_problem(self, text: str | None) -> None:
        """Show (or clear, with None) why the graph on the canvas cannot be trained."""
        self._graph_problem = text or None
        self._update()

    def show_error(self, text: str) -> None:
        """A message about the last run (shown next to Start when nothing blocks a run)."""
        self._message = text
        self._update()

    def set_running(self, running: bool, paused: bool = False) -> None:
        self._running, self._paused = running, paused
        self._update()

    def _update(self) -> None:
        settings, start = self.settings_reason(), self.start_reason()
        idle = not self._running
        for key, button, reason in (("start", self.start_button, start), ("twin", self.twin_button, start),
                                    ("compare", self.compare_button, settings)):
            button.setEnabled(idle and reason is None)
            button.setToolTip(f"Cannot start: {reason}" if reason else TIPS[key])
        self.pause_button.setEnabled(self._running)
        self.stop_button.setEnabled(self._running)
        self.pause_button.setText("Resume" if self._paused else "Pause")
        self.error.setText(start or self._message)
        self.error.setVisible(bool(self.error.text()))
        if (settings, start) != self._reasons:
            self._reasons = (settings, start)
            self.readiness_changed.emit()

    def set_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.progress.setFormat(text)
