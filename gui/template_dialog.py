"""The Open Template dialog: a CIFAR ResNet or its plain twin, or any other template.

The CIFAR family takes plain/residual, a depth 6n+2 between 20 and 110, the shortcut option
(A: zero-padding, B: 1×1 projection), the input shape and the number of classes. Every other
entry of :data:`builder.templates.TEMPLATES` (VGG, LeNet, the zoo) is listed with its
description and gets the input shape and classes when its generator accepts them.
"""

from __future__ import annotations

import inspect
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder import templates
from builder.graph import Graph

CIFAR = "cifar"
DEPTHS = tuple(range(20, 111, 6))  # 6n+2 for n = 3 … 18
CIFAR_NAMES = ("resnet", "plain")


def accepted_options(generator: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``generator`` takes as keyword arguments."""
    try:
        params = inspect.signature(generator).parameters
    except (TypeError, ValueError):
        return options
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return options
    return {k: v for k, v in options.items() if k in params}


def build(name: str, options: dict[str, Any]) -> Graph:
    """Build template ``name``; raises ValueError with a readable message on bad options."""
    if name == CIFAR:
        residual = options.pop("residual", True)
        name = "resnet" if residual else "plain"
        if not residual:
            options.pop("shortcut", None)
        return templates.make(name, **options)
    generator = templates.TEMPLATES[name][0]
    return generator(**accepted_options(generator, options))


SHARED_OPTIONS = ("input_shape", "num_classes")


def extra_options(generator: Any) -> dict[str, Any]:
    """Keyword options of ``generator`` beyond input shape and classes that have a plain
    int/float/bool/str default (the ones the dialog can offer an editor for)."""
    if generator is None:
        return {}
    try:
        params = inspect.signature(generator).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params
            if p.name not in SHARED_OPTIONS and isinstance(p.default, (int, float, str))}


def _editor_for(default: Any) -> QWidget:
    if isinstance(default, bool):
        box = QCheckBox()
        box.setChecked(default)
        return box
    if isinstance(default, int):
        spin = QSpinBox()
        spin.setRange(0, 100_000)
        spin.setValue(default)
        return spin
    if isinstance(default, float):
        dspin = QDoubleSpinBox()
        dspin.setDecimals(4)
        dspin.setRange(-1e6, 1e6)
        dspin.setValue(default)
        return dspin
    return QLineEdit(str(default))


def _editor_value(editor: QWidget) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.value()
    return editor.text() if isinstance(editor, QLineEdit) else None


class TemplateDialog(QDialog):
    """Pick a template and its options; ``graph()`` builds it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Template")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMinimumWidth(280)
        self._fill_list()
        self.description = QLabel(wordWrap=True)
        form_host = QWidget()
        form = QFormLayout(form_host)
        self.residual = QRadioButton("Residual (ResNet)")
        self.residual.setChecked(True)
        self.plain = QRadioButton("Plain (no shortcuts)")
        kinds = QButtonGroup(self)
        kinds.addButton(self.residual)
        kinds.addButton(self.plain)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.residual)
        kind_row.addWidget(self.plain)
        form.addRow("Network", kind_row)
        self.depth_box = QComboBox()
        for depth in DEPTHS:
            self.depth_box.addItem(f"{depth} layers (n = {(depth - 2) // 6})", depth)
        form.addRow("Depth", self.depth_box)
        self.shortcut_box = QComboBox()
        self.shortcut_box.addItem("A — identity, zero-pad new channels (no parameters)", "A")
        self.shortcut_box.addItem("B — 1×1 convolution projection where the shape changes", "B")
        form.addRow("Shortcut", self.shortcut_box)
        self.in_channels, self.in_height, self.in_width = (self._spin(3, 1, 4096), self._spin(32, 1, 4096),
                                                  self._spin(32, 1, 4096))
        shape_row = QHBoxLayout()
        for spin in (self.in_channels, self.in_height, self.in_width):
            shape_row.addWidget(spin)
        form.addRow("Input C × H × W", shape_row)
        self.classes = self._spin(10, 1, 100_000)
        form.addRow("Classes", self.classes)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #e53935;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        right = QVBoxLayout()
        right.addWidget(self.description)
        right.addWidget(form_host)
        self.extra_host = QWidget()
        self.extra_form = QFormLayout(self.extra_host)
        self.extra_form.setContentsMargins(0, 0, 0, 0)
        self.extra: dict[str, QWidget] = {}
        right.addWidget(self.extra_host)
        right.addStretch(1)
        top.addLayout(right, 2)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.residual.toggled.connect(self._update_enabled)
        self.list.currentRowChanged.connect(self._update_enabled)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)
        self.resize(900, 400)
        self._built: Graph | None = None

    @staticmethod
    def _spin(value: int, low: int, high: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    def _fill_list(self) -> None:
        item = QListWidgetItem("CIFAR ResNet / plain (He et al. 2015)")
        item.setData(256, CIFAR)
        self.list.addItem(item)
        for name, (_generator, description) in templates.TEMPLATES.items():
            if name in CIFAR_NAMES:
                continue
            item = QListWidgetItem(description)
            item.setToolTip(f"template '{name}'")
            item.setData(256, name)
            self.list.addItem(item)

    def template_name(self) -> str:
        item = self.list.currentItem()
        return item.data(256) if item else CIFAR

    def _update_enabled(self, *_args: Any) -> None:
        cifar = self.template_name() == CIFAR
        for widget in (self.residual, self.plain, self.depth_box):
            widget.setEnabled(cifar)
        self.shortcut_box.setEnabled(cifar and self.residual.isChecked())
        if cifar:
            self.description.setText("3×3 convolutions in three stages of 16/32/64 filters on "
                                     "32/16/8 maps, n blocks per stage, depth 6n+2; global average "
                                     "pool and a linear classifier.")
        else:
            name = self.template_name()
            self.description.setText(f"<b>{name}</b>: {templates.TEMPLATES[name][1]}. "
                                     "Takes the input shape and classes below when it can.")
        self._build_extra(None if cifar else templates.TEMPLATES[self.template_name()][0])
        self.error.clear()

    def _build_extra(self, generator: Any) -> None:
        """One editor per further keyword option of ``generator`` (depth, widen, growth…)."""
        while self.extra_form.rowCount():
            self.extra_form.removeRow(0)
        self.extra = {}
        for name, default in extra_options(generator).items():
            editor = _editor_for(default)
            self.extra_form.addRow(name.replace("_", " ").capitalize(), editor)
            self.extra[name] = editor
        self.extra_host.setVisible(bool(self.extra))

    def options(self) -> dict[str, Any]:
        """The chosen options, as keyword arguments of the template generator."""
        options: dict[str, Any] = {
            "input_shape": (self.in_channels.value(), self.in_height.value(), self.in_width.value()),
            "num_classes": self.classes.value(),
        }
        if self.template_name() == CIFAR:
            options.update(residual=self.residual.isChecked(), depth=self.depth_box.currentData(),
                           shortcut=self.shortcut_box.currentData())
        for name, editor in self.extra.items():
            options[name] = _editor_value(editor)
        return options

    def graph(self) -> Graph:
        """Build the chosen template (raises ValueError with a message for the user)."""
        return build(self.template_name(), self.options())

    def accept(self) -> None:
        try:
            self._built = self.graph()
        except Exception as exc:  # noqa: BLE001 (a template's refusal is shown, never a crash)
            self.error.setText(f"Cannot build this template: {exc}")
            return
        super().accept()

    def built_graph(self) -> Graph | None:
        """The graph built when the dialog was accepted."""
        return self._built
