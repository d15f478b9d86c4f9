"""How training will fit the graph to the data set, shown under the run controls before Start.

A run trains a copy of the graph fitted to the data (:func:`builder.training.adapt.plan_adaptation`):
the Input takes the data's image shape and the classifier its class count, so a CIFAR ResNet-20
on 8×8 digits trains with ``conv1`` taking 1 channel instead of 3. :func:`describe` turns the plan
into one short line and a list of details; :class:`AdaptationView` shows them (the details behind
a toggle). The run folder keeps the fitted graph, and exports from a run use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from builder.graph import Graph
from builder.training.adapt import DataShape, expected_data, plan_adaptation

SHOWN = 2  # changes named in the short line
STYLES = {"info": "color: #5d4037;", "ok": "color: #2e7d32;", "problem": "color: #c62828;"}
FOOTNOTE = ("Runs train this fitted copy and keep it in their folder (graph.json); exports from "
            "a run use it, so its weights always load.")


@dataclass
class Preview:
    """What the line says: ``level`` is ok (fits as it is), info (changes), problem, or none."""

    line: str = ""
    details: list[str] = field(default_factory=list)
    level: str = "none"


def describe(graph: Graph, values: Mapping[str, Any], data: Any = None) -> Preview:
    """The preview for training ``graph`` on the data set of the form ``values``.

    ``data`` is a ready Dataset (it overrides the form, as the controller's does) or None.
    """
    shape = DataShape(data.name, data.input_shape, data.num_classes) if data is not None \
        else expected_data(values)
    if shape is None:
        return Preview("The data set's image shape is known once it is read (at Start); the graph "
                       "is fitted to it then.", [], "info")
    try:
        plan = plan_adaptation(graph, shape.input_shape, shape.num_classes)
    except ValueError as exc:
        return Preview(f"Cannot train on {shape.describe()}: {exc}", [], "problem")
    if not plan.changes:
        return Preview(f"Fits {shape.describe()} as it is.", [], "ok")
    named = ", ".join(plan.notes[:SHOWN]) + (f" and {len(plan.notes) - SHOWN} more"
                                              if len(plan.notes) > SHOWN else "")
    return Preview(f"Training fits the graph to {shape.describe()}: {named}.", plan.notes, "info")


class AdaptationView(QWidget):
    """One line (word-wrapped) and a Details toggle listing every change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLabel()
        self.line.setWordWrap(True)
        self.line.setObjectName("adaptation_line")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setVisible(False)
        self.details.setStyleSheet("color: #444; margin-left: 12px;")
        self.toggle = QToolButton()
        self.toggle.setText("Details")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(lambda on: self.details.setVisible(on))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.line, 1)
        top.addWidget(self.toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.details)
        self.preview = Preview()
        self.show_preview(self.preview)

    def show_preview(self, preview: Preview) -> None:
        self.preview = preview
        self.line.setText(preview.line)
        self.line.setStyleSheet(STYLES.get(preview.level, ""))
        text = "\n".join([*(f"• {d}" for d in preview.details), FOOTNOTE]) if preview.details else ""
        self.line.setToolTip(text)
        self.details.setText(text)
        self.toggle.setVisible(bool(preview.details))
        self.details.setVisible(bool(preview.details) and self.toggle.isChecked())
        self.setVisible(bool(preview.line))
