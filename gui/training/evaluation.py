"""The evaluation of a finished run, opened from the Runs list: matrix, per-class error, gallery.

:class:`EvaluationDialog` runs :func:`builder.training.evaluate.evaluate` in a thread (the
validation pass can take a while on a big data set), then shows the confusion matrix as a
shaded table (rows: true class, columns: predicted, last column: the class's error) and the
most confidently misclassified validation images with "true → predicted (p)" under each.
"Save PNG + CSV…" writes what ``main.py evaluate`` writes. A run that cannot be evaluated
(no checkpoint, a checkpoint of another graph, a data set that is gone) shows its one line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

THUMB = 96  # gallery image side in pixels
COLUMNS = 4


class EvaluateThread(QThread):
    """Evaluates one run off the GUI thread; ``done`` carries the Evaluation, ``failed`` one line."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, run_dir: str, data: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir, self.data = run_dir, data

    def run(self) -> None:  # noqa: D401 (Qt override)
        from builder.training.evaluate import evaluate

        try:
            self.done.emit(evaluate(self.run_dir, self.data))
        except Exception as exc:  # noqa: BLE001 - every failure becomes the dialog's message
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.failed.emit(text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}")


class EvaluationDialog(QDialog):
    """Confusion matrix, per-class error and the worst mistakes of one run."""

    def __init__(self, run_name: str, run_dir: str, data: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Evaluation — {run_name}")
        self.resize(1100, 640)
        self.evaluation: Any = None
        self.error = ""
        self.header = QLabel(f"Evaluating {run_name} on its validation images…")
        self.header.setWordWrap(True)
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.gallery = QWidget()
        self.gallery_grid = QGridLayout(self.gallery)
        self.gallery_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.gallery_grid.setVerticalSpacing(12)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.gallery)
        split = QSplitter()
        split.addWidget(_titled("Confusion matrix (rows: true class, columns: predicted) and error",
                                self.matrix))
        split.addWidget(_titled("Most confident mistakes (true → predicted, p)", scroll))
        split.setSizes([620, 480])
        self.save_button = QPushButton("Save PNG + CSV…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda _checked=False: self.save_dialog())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.run_dir = run_dir
        self.thread_ = EvaluateThread(run_dir, data, self)
        self.thread_.done.connect(self.show_evaluation)
        self.thread_.failed.connect(self.show_failure)
        self.thread_.start()

    def wait(self, ms: int = 60_000) -> bool:
        """Wait for the evaluation thread (tests and closing)."""
        return self.thread_.wait(ms)

    def done(self, result: int) -> None:  # noqa: D401 (Qt override: closing waits for the thread)
        self.thread_.wait()
        super().done(result)

    # ------------------------------------------------------------------ results
    def show_failure(self, text: str) -> None:
        self.error = text
        self.header.setText(f"Cannot evaluate: {text}")
        self.header.setStyleSheet("color: #c62828;")

    def show_evaluation(self, ev: Any) -> None:
        self.evaluation = ev
        self.header.setText(ev.summary())
        self._fill_matrix(ev)
        self._fill_gallery(ev)
        self.save_button.setEnabled(True)

    def _fill_matrix(self, ev: Any) -> None:
        k = len(ev.classes)
        self.matrix.setRowCount(k)
        self.matrix.setColumnCount(k + 1)
        self.matrix.setHorizontalHeaderLabels([*ev.classes, "error"])
        self.matrix.setVerticalHeaderLabels(ev.classes)
        top = max(int(ev.confusion.max()), 1)
        errors = ev.per_class_error
        for i in range(k):
            for j in range(k):
                n = int(ev.confusion[i, j])
                item = QTableWidgetItem(str(n) if n else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(_shade(n / top, diagonal=i == j)))
                self.matrix.setItem(i, j, item)
            text = "" if not math.isfinite(errors[i]) else f"{100 * errors[i]:.1f}%"
            cell = QTableWidgetItem(text)
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cell.setToolTip(f"{ev.classes[i]}: {int(ev.samples[i])} validation images")
            self.matrix.setItem(i, k, cell)
        self.matrix.resizeColumnsToContents()

    def _fill_gallery(self, ev: Any) -> None:
        if not ev.mistakes:
            self.gallery_grid.addWidget(QLabel("No misclassified validation images."), 0, 0)
            return
        for n, m in enumerate(ev.mistakes):
            picture = QLabel()
            picture.setPixmap(_pixmap(ev.images[n]))
            caption = QLabel(f"{ev.classes[m.true]} → {ev.classes[m.predicted]}\np = {m.confidence:.2f}")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(picture, 0, Qt.AlignmentFlag.AlignCenter)
            box.addWidget(caption)
            self.gallery_grid.addLayout(box, n // COLUMNS, n % COLUMNS)

    # ------------------------------------------------------------------ saving
    def save_dialog(self) -> None:
        suggested = str(Path(self.run_dir) / "evaluation.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save evaluation", suggested, "PNG images (*.png)")
        if path:
            self.save(Path(path))

    def save(self, png: Path) -> None:
        from builder.training.evaluate import write_csv, write_png

        try:
            write_png(self.evaluation, png)
            write_csv(self.evaluation, png.with_suffix(".csv"))
        except OSError as exc:
            self.header.setText(f"{png}: {exc.strerror or exc}")


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(title)
    label.setStyleSheet("font-weight: bold;")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


def _shade(fraction: float, diagonal: bool) -> QColor:
    """Blue for correct counts, red for confusions; stronger with the count."""
    base = (21, 101, 192) if diagonal else (198, 40, 40)
    a = 0.12 + 0.6 * fraction if fraction > 0 else 0.0
    return QColor(*(round(255 - a * (255 - c)) for c in base))


def _pixmap(image: np.ndarray) -> QPixmap:
    """A C×H×W image in [0, 1] as a pixmap THUMB pixels wide (nearest neighbour)."""
    rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image[:3]
    data = np.ascontiguousarray((rgb.transpose(1, 2, 0) * 255).round().astype(np.uint8))
    h, w = data.shape[:2]
    qimage = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)
