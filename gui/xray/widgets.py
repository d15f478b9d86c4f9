"""Small widgets the X-ray panels share: a matplotlib view, a run-folder field, a job bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.xray.jobs import Job


class FigureView(QWidget):
    """A matplotlib figure, created on first draw (matplotlib costs ~0.5 s to import)."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure: Any = None
        self.canvas: Any = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel(placeholder)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._layout.addWidget(self.placeholder)
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def redraw(self, draw: Callable[[Any], None]) -> None:
        """Clear the figure and call ``draw(figure)``."""
        if self.canvas is None:
            from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
            from matplotlib.figure import Figure

            self.figure = Figure(figsize=(8, 3.4), layout="constrained")
            self.canvas = FigureCanvasQTAgg(self.figure)
            self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.placeholder.hide()
            self._layout.addWidget(self.canvas)
        self.figure.clear()
        draw(self.figure)
        self.canvas.draw_idle()


class RunField(QWidget):
    """A run folder: typed or chosen with Browse…"""

    changed = Signal(str)

    def __init__(self, label: str, start: Callable[[], str] = lambda: "", files: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start, self.files = start, files
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("graph file (.json)" if files else "run folder (with checkpoint.pt)")
        self.edit.textChanged.connect(self.changed.emit)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self.choose)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(label))
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)

    def path(self) -> str:
        return self.edit.text().strip()

    def set_path(self, path: str | Path) -> None:
        self.edit.setText(str(path))

    def choose(self) -> None:
        if self.files:
            path, _ = QFileDialog.getOpenFileName(self, "Graph file", self.start(), "Graph files (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Run folder", self.path() or self.start())
        if path:
            self.set_path(path)


class JobBar(QWidget):
    """Progress of the running job, its Stop button and a one-line status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%v / %m")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.job: Job | None = None
        self.stop_button.clicked.connect(self.stop)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.stop_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.status)
        self._show_bar(False)

    def _show_bar(self, on: bool) -> None:
        self.bar.setVisible(on)
        self.stop_button.setVisible(on)

    def attach(self, job: Job, text: str) -> None:
        self.job = job
        self.bar.setRange(0, 0)  # busy until the first progress report
        self._show_bar(True)
        self.stop_button.setEnabled(True)
        self.status.setStyleSheet("")
        self.status.setText(text)
        job.progress.connect(self.on_progress)
        job.finished.connect(self._ended)

    def on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping…")

    def _ended(self) -> None:
        self.stop_button.setEnabled(False)
        self._show_bar(False)

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()
