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
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from builder.training.config import SETTINGS, ConfigError, TrainConfig
from builder.training.settings import FORM_SECTIONS, Spec, check_value, describe, format_value
from gui.training.devices import DeviceCombo, auto_precision
from gui.training.editors import ChoiceBox, FloatBox, FolderEdit, IntBox, ListEdit, SwitchBox, TextEdit

SLOT_STYLE = "QFrame#{name} {{ border: 2px solid {color}; border-radius: 4px; }}"  # red when bad


def make_editor(spec: Spec) -> Any:
    """The editor for one setting, chosen from its kind, with its default shown."""
    editor: Any
    if spec.setting.widget == "device":
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
