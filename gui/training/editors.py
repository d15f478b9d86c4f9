"""The editors of the training form, one kind per setting kind.

A combo box for a ``Literal`` choice (:class:`ChoiceBox`), spin boxes with the setting's range,
unit and a word for 0 (:class:`IntBox`, :class:`FloatBox`), a check box for a switch, a line edit
for a list of numbers, a text field, and a folder field with Browse. Each shows and returns its
setting's value (``set_field_value`` / ``field_value``). Spin boxes and combo boxes change with
the mouse wheel only when they have keyboard focus; otherwise the wheel scrolls the form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from builder.training.settings import Spec, parse_text

_PARTIAL_NUMBER = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?\d*)?$")


def _wheel(widget: QWidget, event: QWheelEvent) -> bool:
    """Whether ``widget`` may take the wheel event (it has focus); else the event goes on up."""
    if widget.hasFocus():
        return True
    event.ignore()
    return False


class ChoiceBox(QComboBox):
    """A ``Literal`` setting: one item per choice, labelled for people, data = the value."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for choice in spec.choices:
            self.addItem(spec.choice_label(choice), choice)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if _wheel(self, event):
            super().wheelEvent(event)

    def field_value(self) -> Any:
        return self.currentData()

    def set_field_value(self, value: Any) -> None:
        index = self.findData(value)
        if index < 0:
            raise ValueError(f"{value!r} is not one of the choices")
        self.setCurrentIndex(index)


def _number_box(box: Any, spec: Spec) -> None:
    """Focus policy, range and the word for 0 of an IntBox or FloatBox."""
    box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    limits = spec.setting.range
    assert limits is not None, spec.name
    box.setRange(limits.low, limits.high)
    if spec.setting.zero and limits.low == 0:
        box.setSpecialValueText(spec.setting.zero)


def _with_unit(number: str, value: float, unit: str) -> str:
    """``30 epochs``, ``1 epoch``; the bare number when there is no unit."""
    if not unit:
        return number
    return f"{number} {unit[:-1] if value == 1 and unit.endswith('s') else unit}"


class _NumberEditing:
    """What IntBox and FloatBox share: the text with its unit and word for 0, the wheel rule."""

    unit = ""
    parse: Callable[[Any], float] = float

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if _wheel(self, event):  # type: ignore[arg-type]
            super().wheelEvent(event)  # type: ignore[misc]

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return _with_unit(f"{value:.10g}", value, self.unit)

    def valueFromText(self, text: str) -> Any:  # noqa: N802 (Qt override)
        box: Any = self
        if box.specialValueText() and text == box.specialValueText():
            return box.minimum()
        try:
            return self.parse(text.strip().partition(" ")[0])
        except ValueError:
            return box.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        return _state(self, text, self.parse), text, pos

    def field_value(self) -> Any:
        return self.value()  # type: ignore[attr-defined]

    def set_field_value(self, value: Any) -> None:
        self.setValue(self.parse(value))  # type: ignore[attr-defined]


def _state(box: Any, text: str, parse: Callable[[Any], float]) -> QValidator.State:
    """Acceptable: a number in range (with its unit); Intermediate: on the way to one."""
    if box.specialValueText() and text == box.specialValueText():
        return QValidator.State.Acceptable
    number, _, word = text.strip().partition(" ")
    if word.strip() and not box.unit.startswith(word.strip()):
        return QValidator.State.Invalid
    try:
        value = parse(number)
    except ValueError:
        partial = _PARTIAL_NUMBER.match(number) is not None
        return QValidator.State.Intermediate if partial else QValidator.State.Invalid
    inside = box.minimum() <= value <= box.maximum()
    return QValidator.State.Acceptable if inside else QValidator.State.Intermediate


class IntBox(_NumberEditing, QSpinBox):
    """An integer setting: its range, its unit ("30 epochs") and its word for 0 ("off")."""

    parse = int

    def __init__(self, spec: Spec) -> None:
        self.unit = spec.setting.unit  # textFromValue runs inside the constructor
        super().__init__()
        _number_box(self, spec)


class FloatBox(_NumberEditing, QDoubleSpinBox):
    """A number setting written as a person writes it (0.05, 1e-05), with its range and unit."""

    parse = float

    def __init__(self, spec: Spec) -> None:
        self.unit = spec.setting.unit
        super().__init__()
        self.setDecimals(10)  # what is kept; the text is the shortest form (textFromValue)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        _number_box(self, spec)


class SwitchBox(QCheckBox):
    """A true/false setting."""

    def field_value(self) -> Any:
        return self.isChecked()

    def set_field_value(self, value: Any) -> None:
        self.setChecked(bool(value))


class ListEdit(QLineEdit):
    """A list of numbers typed as ``0.5, 0.75`` (text that is not one is passed on to be refused)."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.spec = spec
        self.setPlaceholderText("none (e.g. 0.5, 0.75)")

    def field_value(self) -> Any:
        try:
            return parse_text(self.spec, self.text())
        except ValueError:
            return self.text()

    def set_field_value(self, value: Any) -> None:
        self.setText(", ".join(f"{v:g}" for v in value) if isinstance(value, list) else str(value))


class TextEdit(QLineEdit):
    """A free-text setting."""

    def field_value(self) -> Any:
        return self.text().strip()

    def set_field_value(self, value: Any) -> None:
        self.setText(str(value))


class FolderEdit(QWidget):
    """A folder setting: a line edit and a Browse button."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.edit = TextEdit()
        self.edit.setPlaceholderText(spec.setting.help.split(" (")[0])
        self.browse = QPushButton("…")
        self.browse.setFixedWidth(28)
        self.browse.setToolTip("Choose the folder")
        self.browse.clicked.connect(self.choose)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data set folder", self.edit.text())
        if folder:
            self.edit.setText(folder)

    def field_value(self) -> Any:
        return self.edit.field_value()

    def set_field_value(self, value: Any) -> None:
        self.edit.set_field_value(value)
