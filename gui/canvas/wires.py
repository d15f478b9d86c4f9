"""Wire items: a routed polyline from an output port to an input port, labelled with its shape.

The scene computes each route with :mod:`builder.routing` (around the blocks the wire does
not connect); a wire draws it with rounded corners and puts its tensor-shape label on its
longest straight run. Skip connections are dashed and orange.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from gui.canvas.items import FULL_LOD, SELECT_COLOR

WIRE_COLOR = QColor("#5b6573")
SKIP_COLOR = QColor("#e36414")
CORNER = 10.0  # radius of a route's rounded corners


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A cubic curve from an output port to a point (the wire being drawn with the mouse)."""
    path = QPainterPath(start)
    bend = max(30.0, abs(end.x() - start.x()) / 2)
    path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
    return path


def polyline_path(points: Sequence[tuple[float, float]]) -> QPainterPath:
    """The polyline through ``points`` with rounded corners; it starts and ends exactly on them."""
    path = QPainterPath(QPointF(*points[0]))
    for i in range(1, len(points) - 1):
        (ax, ay), (bx, by), (cx, cy) = points[i - 1], points[i], points[i + 1]
        before = max(abs(bx - ax), abs(by - ay))
        after = max(abs(cx - bx), abs(cy - by))
        r = min(CORNER, before / 2, after / 2)
        if r <= 0.5:
            path.lineTo(bx, by)
            continue
        path.lineTo(bx - r * _sign(bx - ax), by - r * _sign(by - ay))
        path.quadTo(bx, by, bx + r * _sign(cx - bx), by + r * _sign(cy - by))
    path.lineTo(QPointF(*points[-1]))
    return path


def _sign(v: float) -> float:
    return (v > 0) - (v < 0)


def label_anchor(points: Sequence[tuple[float, float]]) -> QPointF:
    """Where a wire's shape label goes: the middle of its longest horizontal run."""
    runs = [(abs(b[0] - a[0]), a, b) for a, b in zip(points, points[1:], strict=False)
            if abs(a[1] - b[1]) < 1.0]
    if not runs:
        a, b = points[0], points[-1]
        return QPointF((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    _, a, b = max(runs, key=lambda r: r[0])
    return QPointF((a[0] + b[0]) / 2, a[1])


@lru_cache(maxsize=1)
def _label_font() -> QFont:
    font = QFont()
    font.setPointSizeF(7.5)
    return font


@lru_cache(maxsize=1024)
def _label_width(text: str) -> float:
    return QFontMetricsF(_label_font()).horizontalAdvance(text) + 6


class WireItem(QGraphicsItem):
    """A wire from a block output to an input port, labelled with its tensor shape."""

    def __init__(self, source: str, target: str, port: int) -> None:
        super().__init__()
        self.source, self.target, self.port = source, target, port
        self.skip = False
        self._label = ""
        self._points: list[tuple[float, float]] = []
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._bounds = QRectF()
        self._label_pos = QPointF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(1)

    def set_route(self, points: Sequence[tuple[float, float]]) -> None:
        """Draw along ``points`` (from the output port to the input port)."""
        points = list(points)
        if points == self._points:
            return
        self.prepareGeometryChange()
        self._points = points
        self._path = polyline_path(points)
        self._shape = None
        self._label_pos = label_anchor(points)
        mid = self._label_pos
        self._bounds = self._path.boundingRect().united(QRectF(mid.x() - 40, mid.y() - 16, 80, 20))
        self._bounds.adjust(-4, -4, 4, 4)

    @property
    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    def set_label(self, text: str, skip: bool) -> None:
        if text != self._label or skip != self.skip:
            self._label = text
            self.skip = skip
            self.refresh_tip()
            self.update()

    def refresh_tip(self) -> None:
        kind = "skip connection" if self.skip else "wire"
        self.setToolTip(f"{kind} {self.source} → {self.target} (input {self.port}): {self._label or '?'}")

    @property
    def label(self) -> str:
        return self._label

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        color = SELECT_COLOR if self.isSelected() else (SKIP_COLOR if self.skip else WIRE_COLOR)
        pen = QPen(color, 2.6 if self.isSelected() else 1.6)
        if self.skip:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self._label and option.levelOfDetailFromTransform(painter.worldTransform()) >= FULL_LOD:
            self._paint_label(painter, color)

    def _paint_label(self, painter: QPainter, color: QColor) -> None:
        painter.setFont(_label_font())
        width = _label_width(self._label)
        box = QRectF(self._label_pos.x() - width / 2, self._label_pos.y() - 15, width, 13)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 215))
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(color)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._label)
