"""A wire being drawn with the mouse: the curve that follows it and what the drop does.

A drag starts on a port. From an output, or from a free input, it draws a new wire; from an
input that is already wired it picks that wire up (the wire hides while it moves) and a drop
on another input re-routes it in one undo step. A drop on empty space cancels: nothing
changes. The curve is green over a port that accepts it, red over one that refuses it, and
then the reason is shown beside the cursor (a hint that keeps its size at any zoom).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from builder.graph import Wire
from gui import commands
from gui.canvas.items import ERROR_COLOR, SELECT_COLOR
from gui.canvas.scene import CanvasScene
from gui.canvas.wires import wire_path
from gui.canvas.wiring import PortRef, plan_wire

OK_COLOR = QColor("#2e9e44")  # the wire being drawn, over a port that accepts it
HINT_WIDTH = 340  # the refusal hint wraps at this many pixels


class HintItem(QGraphicsItem):
    """A short message beside the cursor, in screen pixels whatever the zoom."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setZValue(20)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._text = ""
        self._box = QRectF()
        self._left = self._up = False
        self._font = QFont()
        self._font.setPointSizeF(9.0)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        self.prepareGeometryChange()
        self._text = text
        self._measure()

    def set_side(self, left: bool, up: bool) -> None:
        """Show the hint left of and/or above the cursor (at the canvas's right or bottom edge)."""
        if (left, up) != (self._left, self._up):
            self.prepareGeometryChange()
            self._left, self._up = left, up
            self._measure()

    def _measure(self) -> None:
        flags = int(Qt.TextFlag.TextWordWrap)
        area = QFontMetricsF(self._font).boundingRect(QRectF(0, 0, HINT_WIDTH, 1000), flags, self._text)
        width, height = area.width() + 14, area.height() + 10
        x = -16 - width if self._left else 16.0  # beside the cursor, clear of the port under it
        y = -12 - height if self._up else 18.0
        self._box = QRectF(x, y, width, height)

    def boundingRect(self) -> QRectF:
        return self._box.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setPen(QPen(ERROR_COLOR, 1.2))
        painter.setBrush(QColor("#fff4f2"))
        painter.drawRoundedRect(self._box, 4, 4)
        painter.setFont(self._font)
        painter.setPen(QColor("#5f1410"))
        painter.drawText(self._box.adjusted(7, 5, -7, -5), int(Qt.TextFlag.TextWordWrap), self._text)


class WireDrag:
    """One drag from a port until the mouse is released (or Escape)."""

    def __init__(self, canvas: CanvasScene, start: PortRef) -> None:
        self.canvas = canvas
        self.picked: tuple[str, int] | None = None  # (target, port) of a wire picked up
        source = canvas.graph.inputs_of(start.block_id).get(start.port) if start.kind == "in" else None
        if source is not None:
            self.picked = (start.block_id, start.port)
            canvas.wires[self.picked].setVisible(False)
            start = PortRef(source, "out")
        self.start = start
        self.temp = QGraphicsPathItem()
        self.temp.setZValue(10)
        canvas.addItem(self.temp)
        self.hint = HintItem()  # why the port under the cursor refuses the wire
        self.hint.hide()
        canvas.addItem(self.hint)

    def anchor(self) -> QPointF:
        item = self.canvas.blocks[self.start.block_id]
        return item.output_port_pos() if self.start.kind == "out" else item.input_port_pos(self.start.port)

    def follow(self, scene_pos: QPointF, target: PortRef | None) -> None:
        """Redraw the curve to ``scene_pos``; colour it by what a drop on ``target`` would do."""
        anchor = self.anchor()
        out = self.start.kind == "out"
        self.temp.setPath(wire_path(anchor, scene_pos) if out else wire_path(scene_pos, anchor))
        if target is None:
            self.temp.setPen(QPen(SELECT_COLOR, 2.0, Qt.PenStyle.DashLine))
            self.hint.hide()
            return
        plan = self._plan(target)
        ok = isinstance(plan, Wire) or self._same_place(target)
        self.temp.setPen(QPen(OK_COLOR if ok else ERROR_COLOR, 2.0))
        if not ok and isinstance(plan, str):
            self.hint.set_text(f"Cannot wire: {plan}")
            self.hint.setPos(scene_pos)
            self.hint.show()
        else:
            self.hint.hide()

    def _same_place(self, target: PortRef) -> bool:
        spot = (target.block_id, target.port)
        return self.picked is not None and target.kind == "in" and spot == self.picked

    def _plan(self, target: PortRef) -> Wire | str:
        return plan_wire(self.canvas.graph, self.start, target)

    def finish(self, end: PortRef | None) -> str:
        """Apply the drop on ``end`` (None: empty space) and say what happened."""
        self.close()
        doc = self.canvas.doc
        if end is None or self._same_place(end):
            return "Wire left as it was" if self.picked else "Wire cancelled: drop it on a port"
        result = self._plan(end)
        if isinstance(result, str):
            return f"Wire refused: {result}"
        if self.picked is None:
            doc.undo_stack.push(commands.Connect(doc, result.source, result.target, result.port))
            return f"Connected {result.source} → {result.target} (input {result.port})"
        target, port = self.picked
        doc.undo_stack.beginMacro(f"Reconnect {result.source} → {result.target}")
        doc.undo_stack.push(commands.Disconnect(doc, target, port))
        doc.undo_stack.push(commands.Connect(doc, result.source, result.target, result.port))
        doc.undo_stack.endMacro()
        return f"Moved the wire from {target} (input {port}) to {result.target} (input {result.port})"

    def close(self) -> None:
        """Remove the temporary curve and show a picked-up wire again."""
        for item in (self.temp, self.hint):
            if item.scene() is not None:
                self.canvas.removeItem(item)
        if self.picked is not None and self.picked in self.canvas.wires:
            self.canvas.wires[self.picked].setVisible(True)
