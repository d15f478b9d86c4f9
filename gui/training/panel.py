"""The training dock: data set, optimiser, schedule, clipping, device; Start/Pause/Stop; progress.

:meth:`TrainingPanel.config` turns the form into a validated
:class:`~builder.training.config.TrainConfig` (its ``ConfigError`` lines are shown inline,
under the form, naming the field). The device list starts with the CPU only; CUDA devices
(index, name, memory) and MPS are added the first time the list is opened or a run starts,
so the window does not import torch at start-up.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

DATASETS = (("digits", "Digits (built in, 8×8)"), ("synthetic", "Synthetic (random patterns)"),
            ("mnist", "MNIST (folder)"), ("fashion_mnist", "Fashion-MNIST (folder)"),
            ("cifar10", "CIFAR-10 (folder)"), ("cifar100", "CIFAR-100 (folder)"),
            ("folder", "Image folder (one sub-folder per class)"))
CLIPS = (("none", "off"), ("norm", "by norm"), ("value", "by value"))


class DeviceCombo(QComboBox):
    """Lists devices; fills in CUDA/MPS (importing torch) the first time it is opened."""

    def __init__(self) -> None:
        super().__init__()
        self.addItem("CPU", "cpu")
        self.probed = False

    def refresh(self) -> None:
        from gui.training.worker import devices

        current = self.currentData()
        self.clear()
        for value, label in devices():
            self.addItem(label, value)
        self.probed = True
        index = self.findData(current)
        self.setCurrentIndex(max(0, index))

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        if not self.probed:
            self.refresh()
        super().showPopup()


def _spin(low: float, high: float, value: float, decimals: int = 0, step: float = 1) -> Any:
    """A QSpinBox (``decimals`` 0) or a QDoubleSpinBox with the given range and value."""
    if not decimals:
        ibox = QSpinBox()
        ibox.setRange(int(low), int(high))
        ibox.setSingleStep(int(step))
        ibox.setValue(int(value))
        return ibox
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class TrainingPanel(QWidget):
    """The form and the run controls; the controller connects the buttons."""

    settings_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_fields()
        self._build_controls()
        form = QFormLayout()
        for label, widget in self._rows():
            form.addRow(label, widget)
        inner = QWidget()
        box = QVBoxLayout(inner)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(scroll, 1)
        for row in self._button_rows:
            layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self._on_dataset()
        self._on_device()
        self._on_clip()

    # ------------------------------------------------------------------ construction
    def _build_fields(self) -> None:
        self.dataset = QComboBox()
        for value, label in DATASETS:
            self.dataset.addItem(label, value)
        self.data_dir = QLineEdit()
        self.data_dir.setPlaceholderText("folder with the data set's files")
        self.browse = QPushButton("…")
        self.browse.setFixedWidth(28)
        self.browse.clicked.connect(self.choose_folder)
        self.image_size = _spin(0, 1024, 0)
        self.image_size.setSpecialValueText("native")
        self.optimizer = QComboBox()
        self.optimizer.addItems(["sgd", "adam", "adamw"])
        self.lr = _spin(1e-6, 10, 0.05, 5, 0.01)
        self.momentum = _spin(0, 0.999, 0.9, 3, 0.05)
        self.weight_decay = _spin(0, 1, 1e-4, 6, 1e-4)
        self.nesterov = QCheckBox("Nesterov")
        self.schedule = QComboBox()
        self.schedule.addItems(["multistep", "cosine", "constant"])
        self.schedule.setToolTip("multistep: ×0.1 at 50% and 75% of the run (He et al.)")
        self.warmup = _spin(0, 1000, 0, 2, 0.5)
        self.epochs = _spin(1, 100000, 30)
        self.batch = _spin(1, 65536, 128)
        self.clip = QComboBox()
        for value, label in CLIPS:
            self.clip.addItem(label, value)
        self.clip_value = _spin(1e-6, 1e6, 1.0, 4, 0.1)
        self.mixup = _spin(0, 100, 0, 2, 0.1)
        self.mixup.setSpecialValueText("off")
        self.seed = _spin(0, 2**31 - 1, 0)
        self.device = DeviceCombo()
        self.precision = QComboBox()
        self.precision.addItems(["fp32", "bf16", "fp16"])
        self.channels_last = QCheckBox("channels-last")
        self.cpu_threads = _spin(1, 256, max(1, (os.cpu_count() or 2) - 1))
        self.cpu_threads.setToolTip("torch threads for training; one core is left to the window (on a busy "
                                    "machine, more threads than free cores can make each step much slower)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.dataset.currentIndexChanged.connect(self._on_dataset)
        self.device.currentIndexChanged.connect(self._on_device)
        self.clip.currentIndexChanged.connect(self._on_clip)

    def _rows(self) -> list[tuple[str, Any]]:
        folder = QHBoxLayout()
        folder.addWidget(self.data_dir, 1)
        folder.addWidget(self.browse)
        return [("Data set", self.dataset), ("Folder", folder), ("Image size", self.image_size),
                ("Optimizer", self.optimizer), ("Learning rate", self.lr), ("Momentum", self.momentum),
                ("Weight decay", self.weight_decay), ("", self.nesterov), ("Schedule", self.schedule),
                ("Warm-up epochs", self.warmup), ("Epochs", self.epochs), ("Batch size", self.batch),
                ("Clip gradients", self.clip), ("Clip threshold", self.clip_value),
                ("MixUp α", self.mixup), ("Seed", self.seed), ("Device", self.device),
                ("Precision", self.precision), ("", self.channels_last), ("CPU threads", self.cpu_threads)]

    def _build_controls(self) -> None:
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.twin_button = QPushButton("Train plain twin")
        self.twin_button.setToolTip("Train this graph and its copy without shortcuts, alike, overlaid")
        self.compare_button = QPushButton("Compare depths")
        self.compare_button.setToolTip("plain-20, plain-56, ResNet-20, ResNet-56 on this data set")
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
        self.set_running(False)

    # ------------------------------------------------------------------ reactions
    def _on_dataset(self) -> None:
        needs = self.dataset.currentData() not in ("digits", "synthetic")
        self.data_dir.setEnabled(needs)
        self.browse.setEnabled(needs)

    def _on_device(self) -> None:
        cuda = str(self.device.currentData() or "").startswith("cuda")
        self.precision.setEnabled(cuda)
        if not cuda:
            self.precision.setCurrentText("fp32")

    def _on_clip(self) -> None:
        self.clip_value.setEnabled(self.clip.currentData() != "none")

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data set folder", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    # ------------------------------------------------------------------ state
    def values(self) -> dict[str, Any]:
        """The form as TrainConfig keyword arguments."""
        return {"dataset": self.dataset.currentData(), "data_dir": self.data_dir.text().strip(),
                "image_size": self.image_size.value(), "optimizer": self.optimizer.currentText(),
                "lr": self.lr.value(), "momentum": self.momentum.value(),
                "weight_decay": self.weight_decay.value(), "nesterov": self.nesterov.isChecked(),
                "schedule": self.schedule.currentText(), "warmup_epochs": self.warmup.value(),
                "epochs": self.epochs.value(), "batch_size": self.batch.value(),
                "clip": self.clip.currentData(), "clip_value": self.clip_value.value(),
                "mixup_alpha": self.mixup.value(), "seed": self.seed.value(),
                "device": self.device.currentData() or "cpu", "precision": self.precision.currentText(),
                "channels_last": self.channels_last.isChecked()}

    def config(self) -> Any:
        """A validated TrainConfig; raises ConfigError (shown inline by :meth:`show_error`)."""
        from builder.training.config import TrainConfig

        return TrainConfig(**self.values())

    def set_values(self, **values: Any) -> None:
        """Set form fields by TrainConfig name (used by tests and scripted runs)."""
        combos = {"dataset": self.dataset, "clip": self.clip, "device": self.device}
        for name, value in values.items():
            if name in combos:
                combos[name].setCurrentIndex(max(0, combos[name].findData(value)))
            elif name in ("optimizer", "schedule", "precision"):
                getattr(self, name).setCurrentText(value)
            else:
                aliases = {"batch_size": "batch", "warmup_epochs": "warmup", "mixup_alpha": "mixup",
                           "threads": "cpu_threads"}
                widget = getattr(self, aliases.get(name, name))
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QLineEdit):
                    widget.setText(str(value))
                else:
                    widget.setValue(value)

    def show_error(self, text: str) -> None:
        self.error.setText(text)

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.start_button.setEnabled(not running)
        self.twin_button.setEnabled(not running)
        self.compare_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")

    def set_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.progress.setFormat(text)
