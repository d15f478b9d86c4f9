"""The training settings form, generated from the settings' single description.

:class:`SettingsForm` makes one editor per :data:`builder.training.config.SETTINGS` entry, its
kind chosen from the setting's type: a combo box for a ``Literal`` choice, a spin box with the
setting's range (and unit, and a word for 0 such as "off") for a number, a check box for a
switch, a line edit for the milestones, a folder field with Browse for a path, and the device
list. Settings are grouped in sections (Data, Optimisation, Schedule, …); the less-used ones sit
under a collapsible "Advanced" section. A setting that does not apply (momentum for Adam) is
disabled; a bad value is outlined in red with the reason as its tooltip.

Spin boxes and combo boxes change with the mouse wheel only when they have keyboard focus;
otherwise the wheel scrolls the form.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from builder.training.config import SETTINGS, ConfigError, TrainConfig
from builder.training.settings import FORM_SECTIONS, Spec, check_value, describe, format_value, parse_text

SLOT_STYLE = "QFrame#{name} {{ border: 2px solid {color}; border-radius: 4px; }}"  # red when bad
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


def make_editor(spec: Spec) -> Any:
    """The editor for one setting, chosen from its kind, with its default shown."""
    editor: Any
    if spec.setting.widget == "device":
        from gui.training.devices import DeviceCombo

        editor = DeviceCombo(spec)
    elif spec.kind == "choice":
        editor = ChoiceBox(spec)
    elif spec.kind == "int":
        editor = IntBox(spec)
    elif spec.kind == "float":
        editor = FloatBox(spec)
    elif spec.kind == "bool":
        editor = SwitchBox()
    elif spec.kind == "floats":
        editor = ListEdit(spec)
    else:
        editor = FolderEdit(spec) if spec.setting.path else TextEdit()
    editor.setObjectName(f"field_{spec.name}")
    editor.set_field_value(spec.default)
    return editor


def _changed_signal(editor: Any) -> Any:
    if isinstance(editor, FolderEdit):
        return editor.edit.textChanged
    for name in ("currentIndexChanged", "valueChanged", "toggled", "textChanged"):
        if hasattr(editor, name):
            return getattr(editor, name)
    raise TypeError(f"no change signal on {editor!r}")


def _similar(name: str) -> list[str]:
    """Setting names that look like ``name`` (``threads`` → ``cpu_threads``)."""
    return [n for n in SETTINGS if name in n] or difflib.get_close_matches(name, list(SETTINGS), n=2)


def field_tooltip(spec: Spec) -> str:
    """What a setting does, its allowed values and default, and its command-line flag."""
    allowed = describe(spec)
    default = format_value(spec, spec.default) or "none"
    return (f"{spec.setting.help}.\n{allowed + '; ' if allowed else ''}default {default}."
            f"\nCommand line: {spec.flag}")


class SettingsForm(QWidget):
    """One editor per setting, in sections; ``changed`` after every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, Any] = {name: make_editor(spec) for name, spec in SETTINGS.items()}
        self.labels: dict[str, QLabel] = {}
        self.slots: dict[str, QFrame] = {}
        self.problems: dict[str, str] = {}
        self._marked: dict[str, str | None] = {}
        self._quiet = False
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(4, 4, 4, 4)
        self._advanced_rows: list[QWidget] = []
        self._add_rows()
        for editor in self.editors.values():
            _changed_signal(editor).connect(self._on_edit)
        self.refresh()

    # ------------------------------------------------------------------ construction
    def _add_rows(self) -> None:
        for section in FORM_SECTIONS:
            self._header(section)
            for spec in self._specs(section, advanced=False):
                self._add(spec)
        self.advanced = QToolButton()
        self.advanced.setText("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setAutoRaise(True)
        self.advanced.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced.setToolTip("Less-used settings: validation share, Nesterov, warm-up start, "
                                 "channels-last, torch.compile, probes, checkpoints")
        self.advanced.toggled.connect(self.show_advanced)
        self.layout_.addRow(self.advanced)
        for section in FORM_SECTIONS:
            specs = self._specs(section, advanced=True)
            if specs:
                self._advanced_rows.append(self._header(section, small=True))
            for spec in specs:
                self._advanced_rows.append(self._add(spec))
        self.show_advanced(False)

    @staticmethod
    def _specs(section: str, advanced: bool) -> list[Spec]:
        return [s for s in SETTINGS.values()
                if s.setting.section == section and s.setting.advanced == advanced]

    def _header(self, text: str, small: bool = False) -> QLabel:
        label = QLabel(f"<span style='color: gray'>{text}</span>" if small else f"<b>{text}</b>")
        label.setContentsMargins(0, 2 if small else 8, 0, 0)
        self.layout_.addRow(label)
        return label

    def _add(self, spec: Spec) -> QWidget:
        label = QLabel(spec.setting.label)
        editor = self.editors[spec.name]
        label.setBuddy(editor)
        label.setToolTip(field_tooltip(spec))
        editor.setToolTip(field_tooltip(spec))
        self.labels[spec.name] = label
        slot = QFrame()  # draws the red outline around the editor (a border on a spin box breaks it)
        slot.setObjectName(f"slot_{spec.name}")
        row = QHBoxLayout(slot)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(editor)
        self.slots[spec.name] = slot
        self.layout_.addRow(label, slot)
        return slot

    def show_advanced(self, shown: bool) -> None:
        """Unfold or fold the Advanced section."""
        self.advanced.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if self.advanced.isChecked() != shown:
            self.advanced.setChecked(shown)
        for widget in self._advanced_rows:
            self.layout_.setRowVisible(widget, shown)

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """The form as TrainConfig keyword arguments."""
        return {name: editor.field_value() for name, editor in self.editors.items()}

    def set_values(self, **values: Any) -> None:
        """Set fields by setting name; ValueError names an unknown setting or a wrong choice."""
        unknown = [name for name in values if name not in self.editors]
        if unknown:
            hints = [f"{n} (did you mean {', '.join(close)}?)" if (close := _similar(n)) else n
                     for n in unknown]
            raise ValueError(f"unknown setting(s): {'; '.join(hints)}")
        self._quiet = True
        try:
            for name, value in values.items():
                self.editors[name].set_field_value(value)
        finally:
            self._quiet = False
        self._on_edit()

    def restore(self, data: dict[str, Any]) -> None:
        """Set every known setting in ``data`` whose value has the right type; skip the rest."""
        good = {k: v for k, v in data.items()
                if k in SETTINGS and check_value(SETTINGS[k], v, types_only=True) is None}
        self._quiet = True
        try:
            for name, value in good.items():
                try:
                    self.editors[name].set_field_value(value)
                except (ValueError, TypeError):
                    continue  # a choice that no longer exists
        finally:
            self._quiet = False
        self._on_edit()

    def config(self) -> TrainConfig:
        """A validated TrainConfig; raises ConfigError."""
        return TrainConfig(**self.values())

    # ------------------------------------------------------------------ live checks
    def _on_edit(self) -> None:
        if not self._quiet:
            self.refresh()
            self.changed.emit()

    def refresh(self) -> None:
        """Enable the settings that apply, reset a disabled bad one, outline the bad ones."""
        values = self.values()
        for name, spec in SETTINGS.items():
            on = spec.applies(values)
            self.editors[name].setEnabled(on)
            self.labels[name].setEnabled(on)
        self.problems = self._check()
        stuck = [n for n in self.problems if n and not self.editors[n].isEnabled()]
        if stuck:  # a setting that cannot be edited now cannot keep a bad value: back to default
            self._quiet = True
            for name in stuck:
                self.editors[name].set_field_value(SETTINGS[name].default)
            self._quiet = False
            self.problems = self._check()
        for name, editor in self.editors.items():
            self._mark(name, editor, self.problems.get(name))
        self.show_auto_precision(values.get("device", "auto"))

    def show_auto_precision(self, device: str) -> None:
        """Name what ``precision: auto`` becomes on ``device`` in its choice (once torch is loaded)."""
        from gui.training.devices import auto_precision

        editor = self.editors.get("precision")
        found = auto_precision(device)
        if editor is None or found is None or editor.findData("auto") < 0:
            return
        index = editor.findData("auto")
        name, why, where = found
        text = f"Auto → {name} on {where}"
        if editor.itemText(index) != text:
            editor.setItemText(index, text)
            editor.setItemData(index, f"auto resolves to {name}: {why}", Qt.ItemDataRole.ToolTipRole)

    def _check(self) -> dict[str, str]:
        try:
            TrainConfig(**self.values())
        except ConfigError as exc:
            return dict(exc.fields)
        return {}

    def _mark(self, name: str, editor: Any, problem: str | None) -> None:
        if name in self._marked and self._marked[name] == problem:
            return
        self._marked[name] = problem
        slot = self.slots[name]
        slot.setStyleSheet(SLOT_STYLE.format(name=slot.objectName(),
                                             color="#d32f2f" if problem else "transparent"))
        editor.setToolTip(f"{SETTINGS[name].setting.label}: {problem}" if problem
                          else field_tooltip(SETTINGS[name]))

    def problem_lines(self) -> list[str]:
        """``Label: reason`` for every bad setting, in form order."""
        return [f"{SETTINGS[n].setting.label}: {m}" if n else m for n, m in self.problems.items()]
