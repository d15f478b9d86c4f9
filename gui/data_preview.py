"""*Preview Data Set…*: a grid of sample images with their labels, class counts and the input shape.

Works for every source the trainer reads (digits, synthetic, MNIST, Fashion-MNIST, CIFAR-10/100
— a fetched copy when no folder is given — and an image folder), through
:func:`builder.training.datasets.load_raw` and :func:`~builder.training.datasets.preview`.
A problem (no such folder, a set not fetched yet, a folder with one class) is shown as one
line in the dialog, never a traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.training.config import SETTINGS

COLUMNS, SAMPLES, CELL = 8, 32, 64  # grid width, images shown, pixels per image


def to_pixmap(image: np.ndarray, size: int = CELL) -> QPixmap:
    """An (H, W, C) uint8 image (C = 1 or 3) scaled to ``size`` px with hard pixel edges."""
    h, w, c = image.shape
    data = np.ascontiguousarray(image if c in (1, 3) else image[..., :3])
    fmt = QImage.Format.Format_Grayscale8 if data.shape[2] == 1 else QImage.Format.Format_RGB888
    qimage = QImage(data.data, w, h, w * data.shape[2], fmt).copy()  # copy: own the pixels
    return QPixmap.fromImage(qimage).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


class PreviewDialog(QDialog):
    """Choose a source (and folder), press Show: samples, counts and the shape appear."""

    def __init__(self, parent: QWidget | None = None, dataset: str = "digits", data_dir: str = "",
                 image_size: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preview Data Set")
        self.resize(980, 560)
        self.image_size = image_size
        self.source = QComboBox()
        spec = SETTINGS["dataset"]  # the training form's choices and labels
        for value in spec.choices:
            self.source.addItem(spec.choice_label(value), value)
        self.source.setCurrentIndex(max(0, self.source.findData(dataset)))
        self.folder = QLineEdit(data_dir)
        self.folder.setPlaceholderText("the fetched copy (CIFAR, MNIST) — or a folder with the files")
        self.choose_button = QPushButton("Choose…")
        self.show_button = QPushButton("&Show")
        self.info = QLabel("")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        self.counts = QTableWidget(0, 3)
        self.counts.setHorizontalHeaderLabels(["Class", "Train", "Val"])
        self.counts.verticalHeader().setVisible(False)
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.counts.setMinimumWidth(300)
        self._layout()
        self.preview: Any = None
        self._on_source()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Data set"))
        top.addWidget(self.source)
        top.addWidget(self.folder, 1)
        top.addWidget(self.choose_button)
        top.addWidget(self.show_button)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.counts)
        split.setSizes([660, 320])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addWidget(self.error)
        layout.addWidget(split, 1)
        self.source.currentIndexChanged.connect(self._on_source)
        self.choose_button.clicked.connect(self.choose_folder)
        self.show_button.clicked.connect(self.show_preview)

    def _on_source(self) -> None:
        needs = self.source.currentData() not in ("digits", "synthetic")
        self.folder.setEnabled(needs)
        self.choose_button.setEnabled(needs)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data set folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def show_preview(self) -> bool:
        """Load the chosen source and show it; False (and one line in red) when it cannot be read."""
        from builder.training.datasets import DatasetError, load_raw, preview
        from gui.data_dialogs import apply_settings

        apply_settings()
        name, folder = str(self.source.currentData()), self.folder.text().strip()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            raw = load_raw(name, folder if self.folder.isEnabled() else "", self.image_size)
            self.preview = preview(raw, SAMPLES)
        except (DatasetError, OSError) as exc:
            self._fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._fill(self.preview)
        return True

    def _fail(self, message: str) -> None:
        self.preview = None
        self.error.setText(message)
        self.info.setText("")
        self._clear_grid()
        self.counts.setRowCount(0)

    def _clear_grid(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone now, not only when the event loop next deletes it
                widget.deleteLater()

    def _fill(self, p: Any) -> None:
        c, h, w = p.input_shape
        present = sum(1 for _, t, _ in p.counts if t)
        self.info.setText(f"<b>{p.name}</b> — input shape <b>{c}×{h}×{w}</b> · {p.n_train:,} training / "
                          f"{p.n_val:,} validation images · {len(p.counts)} classes")
        self.error.setText("" if present >= 2 else "Warning: the training images hold fewer than two "
                           "classes; classification needs two or more.")
        self._clear_grid()
        for i, (image, label) in enumerate(zip(p.images, p.labels, strict=True)):
            self.grid.addWidget(self._cell(image, label), i // COLUMNS, i % COLUMNS)
        self.counts.setRowCount(len(p.counts))
        for row, (cls, n_train, n_val) in enumerate(p.counts):
            for col, value in enumerate((cls, f"{n_train:,}", f"{n_val:,}")):
                item = QTableWidgetItem(value)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if n_train == 0:
                    item.setForeground(QColor("#b00020"))
                self.counts.setItem(row, col, item)

    @staticmethod
    def _cell(image: np.ndarray, label: str) -> QWidget:
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        picture = QLabel()
        picture.setPixmap(to_pixmap(image))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = QLabel(label if len(label) <= 12 else label[:11] + "…")
        caption.setToolTip(label)
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(picture)
        box.addWidget(caption)
        return cell


def preview_dataset(parent: QWidget | None, panel: Any = None) -> PreviewDialog:
    """Open the preview on the training form's data set (when ``panel`` can say which) and show it."""
    values: dict[str, Any] = {}
    try:
        values = dict(panel.values()) if panel is not None and hasattr(panel, "values") else {}
    except Exception:  # the form may hold an invalid value right now; start from the defaults
        values = {}
    dialog = PreviewDialog(parent, str(values.get("dataset") or "digits"), str(values.get("data_dir") or ""),
                           int(values.get("image_size") or 0))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.show_preview()
    return dialog
