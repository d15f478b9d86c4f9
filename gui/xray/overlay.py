"""Canvas overlays: skip wires drawn thicker where more gradient flows through them.

:class:`SkipOverlay` puts a translucent stroke under each skip-path wire of the canvas
(``QGraphicsPathItem`` s that follow the wire's own path, below it), ``width`` pixels wide. It
follows the wires when blocks move and removes its items on :meth:`clear`. The canvas's own
items are never changed.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from builder.graph import Graph, Wire
from builder.xray.structure import residual_units, unit_skip_wires

COLOR = QColor(30, 136, 229, 110)
MIN_WIDTH, MAX_WIDTH = 2.0, 16.0


def widths(shares: dict[str, float], graph: Graph) -> dict[Wire, float]:
    """Pen width per skip wire of ``graph`` from each unit's skip share of the gradient (0–1),
    units matched by label (their group, or the Add's id)."""
    out: dict[Wire, float] = {}
    for unit in residual_units(graph):
        share = shares.get(unit.label)
        if share is None:
            continue
        width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * min(1.0, max(0.0, share))
        for wire in unit_skip_wires(graph, unit):
            out[wire] = width
    return out


class SkipOverlay:
    """Translucent strokes under the canvas's skip wires."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.items: dict[Wire, QGraphicsPathItem] = {}
        self.widths: dict[Wire, float] = {}
        self._timer = QTimer(canvas, singleShot=True, interval=60)  # goes with the canvas
        self._timer.timeout.connect(self.refresh)
        canvas.doc.graph_event.connect(self._later)
        canvas.doc.graph_replaced.connect(self.clear)

    def _alive(self) -> bool:
        """False once the canvas is gone: the document (and its signals) can outlive it."""
        return shiboken6.isValid(self.canvas)

    def _later(self, _event: object) -> None:
        if self._alive():
            self._timer.start()

    def show(self, widths: dict[Wire, float]) -> None:
        self.widths = dict(widths)
        self.refresh()

    def clear(self) -> None:
        self.widths = {}
        self.refresh()

    def refresh(self) -> None:
        if not self._alive():
            return
        scene = self.canvas.scene()
        for wire in [w for w in self.items if w not in self.widths]:
            old = self.items.pop(wire)
            if shiboken6.isValid(old) and old.scene() is scene:  # a new graph's scene.clear() deleted it
                scene.removeItem(old)
        for wire, width in self.widths.items():
            source = scene.wires.get((wire.target, wire.port))
            if source is None or source.source != wire.source:
                continue
            item = self._item(wire, scene)
            pen = QPen(COLOR, width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            item.setPen(pen)
            item.setPath(source.path())
            item.setVisible(source.isVisible())

    def _item(self, wire: Wire, scene: Any) -> QGraphicsPathItem:
        item = self.items.get(wire)
        if item is None or not shiboken6.isValid(item) or item.scene() is not scene:
            item = QGraphicsPathItem()
            item.setZValue(0.5)  # under the wire (1), over the frames
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            scene.addItem(item)
            self.items[wire] = item
        return item
