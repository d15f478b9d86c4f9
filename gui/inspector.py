"""The inspector: a form generated from the selected block's catalog parameters.

Every edit is one undo command (``SetParam`` or ``Rename``). Below the form it shows the
block's inferred input and output shapes and its diagnostics.
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder.catalog import fmt_shape
from builder.graph import BlockRemoved, BlockRenamed, Event, ParamChanged, id_problem
from builder.params import Param
from gui import commands, style
from gui.document import Document

SPIN_LIMIT = 2**31 - 1  # QSpinBox holds a C int
SAME = "same"


def _bounds(param: Param, low_default: int = 0) -> tuple[int, int]:
    low = int(param.minimum) if param.minimum is not None else low_default
    high = int(param.maximum) if param.maximum is not None else SPIN_LIMIT
    return max(low, -SPIN_LIMIT), min(high, SPIN_LIMIT)


class EditParam(commands.SetParam):
    """A SetParam from the inspector. Quick successive edits of one parameter (spin-box arrow
    clicks, the mouse wheel) merge into one undo step; an edit back to where the run started
    leaves no step at all."""

    MERGE_ID = 0x5E7
    MERGE_SECONDS = 1.0

    def __init__(self, doc: Document, block_id: str, name: str, value: Any) -> None:
        super().__init__(doc, block_id, name, value)
        self.stamp = time.monotonic()

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: Any) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, EditParam) or (other.block_id, other.name) != (self.block_id, self.name):
            return False
        if other.stamp - self.stamp > self.MERGE_SECONDS:
            return False
        self.value, self.stamp = other.value, other.stamp
        self.setText(other.text())
        self.setObsolete(self.value == self.old and type(self.value) is type(self.old))
        return True


class ParamEditor(QWidget):
    """One parameter's editor; emits ``edited(name, value)`` when the user commits a value."""

    edited = Signal(str, object)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget = self._make_widget()
        self.widget.setToolTip(f"<b>{param.name}</b>: {param.help}")
        layout.addWidget(self.widget)

    def _make_widget(self) -> QWidget:
        kind = self.param.kind
        if kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on: self.edited.emit(self.param.name, bool(on)))
            return box
        if kind == "choice":
            combo = QComboBox()
            combo.addItems(list(self.param.choices))
            combo.activated.connect(lambda i: self.edited.emit(self.param.name, combo.itemText(i)))
            return combo
        if kind in ("int", "int_or_same"):
            return self._make_spin()
        line = QLineEdit()
        line.editingFinished.connect(self._float_finished)
        return line

    def _make_spin(self) -> QSpinBox:
        spin = QSpinBox()
        spin.setKeyboardTracking(False)  # one edit per committed value, not per keystroke
        low, high = _bounds(self.param)
        if self.param.kind == "int_or_same":
            low -= 1  # the value below the minimum stands for "same"
            spin.setSpecialValueText(SAME)
        spin.setRange(low, high)
        spin.valueChanged.connect(self._spin_changed)
        return spin

    def _spin_changed(self, value: int) -> None:
        spin = self.widget
        assert isinstance(spin, QSpinBox)
        same = self.param.kind == "int_or_same" and value == spin.minimum()
        self.edited.emit(self.param.name, SAME if same else int(value))

    def _float_finished(self) -> None:
        text = self.widget.text().strip()  # type: ignore[attr-defined]
        try:
            value = float(text)
        except ValueError:
            value = text  # type: ignore[assignment]  # range_error names the problem
        self.edited.emit(self.param.name, value)

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited``."""
        widget = self.widget
        widget.blockSignals(True)
        try:
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(widget.minimum() if value == SAME else int(value))
            else:
                widget.setText(repr(value) if isinstance(value, float) else str(value))  # type: ignore[attr-defined]
        finally:
            widget.blockSignals(False)


class InspectorWidget(QWidget):
    """Shows and edits one block (or says how many are selected)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.block_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.stats: dict[str, tuple[int, int]] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.help = QLabel(wordWrap=True)
        self.help.setStyleSheet("color: #555;")
        self.id_edit = QLineEdit()
        self.id_edit.setToolTip("The block's id: a Python identifier, unique in the graph. "
                                "It names the submodule in the compiled and exported model.")
        self.id_edit.editingFinished.connect(self._rename)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(f"color: {style.ERROR_COLOR};")
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.shapes = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.diagnostics = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        for w in (self.title, self.help, self.id_edit, self.error, self.form_host, self.shapes,
                  self.diagnostics):
            self._layout.addWidget(w)
        self._layout.addStretch(1)
        document.graph_event.connect(self._on_graph_event)
        document.graph_replaced.connect(self._on_replaced)
        document.validated.connect(self._on_validated)
        self.show_selection([])

    # ------------------------------------------------------------------ selection
    def show_selection(self, block_ids: list[str]) -> None:
        """Inspect the one selected block, or summarise a multiple/empty selection."""
        ids = [b for b in block_ids if b in self.document.graph]
        self.block_id = ids[0] if len(ids) == 1 else None
        self.error.clear()
        if self.block_id is None:
            self._clear_form()
            self.title.setText("<b>No block selected</b>" if not ids
                               else f"<b>{len(ids)} blocks selected</b>")
            self.help.setText("Select a block on the canvas to edit its parameters.")
            for w in (self.id_edit, self.form_host, self.shapes, self.diagnostics):
                w.setVisible(False)
            return
        self._build_form()
        self._refresh()
        self._show_report()

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}

    def _build_form(self) -> None:
        self._clear_form()
        block = self.document.graph.block(self.block_id or "")
        spec = block.spec
        color = style.color_for(spec.type_id).name()
        self.title.setText(f"<span style='color:{color}'>■</span> <b>{spec.label}</b> "
                           f"<span style='color:gray'>({spec.category})</span>")
        self.help.setText(spec.help)
        for param in spec.params:
            editor = ParamEditor(param)
            editor.edited.connect(self._param_edited)
            label = QLabel(param.name)
            label.setToolTip(param.help)
            self.form.addRow(label, editor)
            self.editors[param.name] = editor
        for w in (self.id_edit, self.form_host, self.shapes, self.diagnostics):
            w.setVisible(True)
        self.form_host.setVisible(bool(spec.params))

    def _refresh(self) -> None:
        if self.block_id is None:
            return
        block = self.document.graph.block(self.block_id)
        self.id_edit.setText(block.id)
        for name, editor in self.editors.items():
            editor.set_value(block.params[name])

    def _show_report(self) -> None:
        """Shapes and diagnostics from the current report (validating now if needed)."""
        self._on_validated(self.document.report())

    # ------------------------------------------------------------------ edits
    def _param_edited(self, name: str, value: Any) -> None:
        if self.block_id is None:
            return
        block = self.document.graph.block(self.block_id)
        param = block.spec.param_map[name]
        problem = param.range_error(value)
        if problem:
            self.error.setText(f"{self.block_id}: {problem}")
            self.editors[name].set_value(block.params[name])
            return
        self.error.clear()
        value = param.coerce(value)
        if value != block.params[name] or type(value) is not type(block.params[name]):
            self.document.undo_stack.push(EditParam(self.document, self.block_id, name, value))

    def _rename(self) -> None:
        if self.block_id is None:
            return
        new = self.id_edit.text().strip()
        if new == self.block_id:
            self.error.clear()
            return
        problem = id_problem(new)
        if problem is None and new in self.document.graph:
            problem = f"{new!r} is already the id of another block"
        if problem:
            self.error.setText(f"Cannot rename {self.block_id}: {problem}")
            self.id_edit.setText(self.block_id)
            return
        self.error.clear()
        self.document.undo_stack.push(commands.Rename(self.document, self.block_id, new))

    # ------------------------------------------------------------------ document signals
    def set_stats(self, stats: dict[str, tuple[int, int]]) -> None:
        """Per-block (parameters, mult-adds) from the latest summary; {} while it is stale."""
        self.stats = stats
        if self.block_id is not None and self.block_id in self.document.graph:
            self._on_validated(self.document.report())

    def _on_replaced(self) -> None:
        self.stats = {}  # counts of the previous graph, whose ids may repeat in this one
        self.show_selection([])

    def _on_graph_event(self, event: Event) -> None:
        self.stats = {}  # the numbers belong to the graph before this change
        if self.block_id is None:
            return
        match event:
            case BlockRenamed(old=old) if old == self.block_id:
                self.block_id = event.block_id
                self._refresh()
            case BlockRemoved() if event.block_id == self.block_id:
                self.show_selection([])
            case ParamChanged() if event.block_id == self.block_id:
                self._refresh()

    def _on_validated(self, report: Any) -> None:
        if self.block_id is None or self.block_id not in self.document.graph:
            return
        graph = self.document.graph
        inputs = graph.inputs_of(self.block_id)
        ins = [f"{src} → {fmt_shape(report.shapes.get(src))}" for _, src in sorted(inputs.items())]
        out = fmt_shape(report.shapes.get(self.block_id))
        counts = ""
        if self.block_id in self.stats:
            params, macs = self.stats[self.block_id]
            counts = f"<br><b>Parameters</b>: {params:,}<br><b>Mult-adds</b>: {macs:,}"
        self.shapes.setText("<b>Input</b>: " + ("<br>".join(ins) or "none")
                            + f"<br><b>Output</b>: {out}{counts}")
        diags = report.for_block(self.block_id)
        self.diagnostics.setText("<br>".join(
            f"<span style='color:{style.ERROR_COLOR if d.severity == 'error' else style.WARNING_COLOR}'>"
            f"{'✖' if d.severity == 'error' else '⚠'} {html.escape(d.message)}</span>" for d in diags))
        self.diagnostics.setVisible(bool(diags))
