"""Names drawn over the canvas when zoomed out, in a font that keeps its size on screen.

Below :data:`~gui.canvas.items.FULL_LOD` a group frame's own name strip is too small to read,
so the view labels each frame here: its name and its output shape ("layer2.0 → 32×16×16"),
on a pill at the frame's top-left corner (kept on screen while the frame is). Labels are
placed outer groups first and skipped where they would cover one already placed, so a fitted
ResNet-110 reads as a map of stages and blocks, never as a wall of empty boxes. Ungrouped
blocks get their name too once blocks are too small for their own text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from gui.canvas.items import COMPACT_LOD, FULL_LOD, TEXT_COLOR

if TYPE_CHECKING:
    from gui.canvas.view import CanvasView

NAME_PX = 12  # the name's font height on screen
SHAPE_PX = 11
PILL = QColor(255, 255, 255, 230)


@lru_cache(maxsize=4)
def _font(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


@lru_cache(maxsize=8192)
def _width(text: str, pixels: int, bold: bool) -> float:
    return QFontMetricsF(_font(pixels, bold)).horizontalAdvance(text)


class Label:
    """One label: its name, its shape text, where it sits (view pixels) and its colour."""

    def __init__(self, name: str, shape: str, anchor: QPointF, color: QColor, room: float) -> None:
        self.name, self.shape, self.color = name, shape, color
        width = _width(name, NAME_PX, True) + (_width("  " + shape, SHAPE_PX, False) if shape else 0)
        self.rect = QRectF(anchor.x(), anchor.y(), min(width, max(room, 40.0)) + 10, NAME_PX + 8)

    def paint(self, painter: QPainter) -> None:
        painter.setPen(QPen(self.color, 1.2))
        painter.setBrush(PILL)
        painter.drawRoundedRect(self.rect, 5, 5)
        inner = self.rect.adjusted(5, 0, -5, 0)
        painter.setFont(_font(NAME_PX, True))
        painter.setPen(self.color.darker(160))
        name = QFontMetricsF(_font(NAME_PX, True)).elidedText(self.name, Qt.TextElideMode.ElideMiddle,
                                                               inner.width())
        painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter, name)
        used = _width(name, NAME_PX, True)
        if self.shape and used + 30 < inner.width():
            painter.setFont(_font(SHAPE_PX, False))
            painter.setPen(TEXT_COLOR)
            painter.drawText(inner.adjusted(used, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, "  " + self.shape)


def labels(view: CanvasView) -> list[Label]:
    """The labels to draw at the view's zoom, overlaps removed (empty when items show their text)."""
    zoom = view.zoom()
    if zoom >= FULL_LOD:
        return []
    visible = QRectF(view.viewport().rect())
    placed: list[Label] = []
    for label in _frame_labels(view, visible) + (_block_labels(view, visible) if zoom < COMPACT_LOD else []):
        if visible.intersects(label.rect) and not any(label.rect.intersects(p.rect) for p in placed):
            placed.append(label)
    return placed


def _frame_labels(view: CanvasView, visible: QRectF) -> list[Label]:
    frames = [f for f in view.canvas.frames.values() if f.isVisible()]
    frames.sort(key=lambda f: (f.depth, f.box_rect().top(), f.box_rect().left()))
    out = []
    for frame in frames:
        box = view.mapFromScene(frame.box_rect()).boundingRect()
        if not box.intersects(visible.toRect()) or box.height() < NAME_PX:
            continue
        top = min(max(box.top() + 1, visible.top() + 2), box.bottom() - NAME_PX - 8)  # stays on screen
        anchor = QPointF(box.left() + 4, top)
        shape = frame.summary.rpartition("→ ")[2] if frame.summary else ""
        name = ("▸ " if frame.collapsed else "") + frame.path
        out.append(Label(name, f"→ {shape}" if shape and shape != "—" else "", anchor,
                         QColor(frame.edge_color()), box.width() - 8))
    return out


def _block_labels(view: CanvasView, visible: QRectF) -> list[Label]:
    out = []
    graph = view.doc.graph
    for block_id, item in view.canvas.blocks.items():
        if not item.isVisible() or graph.block(block_id).group:
            continue
        box = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        if box.intersects(visible.toRect()):
            out.append(Label(block_id, "", QPointF(box.left(), box.top() - NAME_PX - 10),
                             QColor("#5b6573"), max(box.width(), 60.0)))
    return out


def paint(view: CanvasView, painter: QPainter) -> None:
    """Draw the labels in view pixels (called from the view's foreground)."""
    found = labels(view)
    if not found:
        return
    painter.save()
    painter.resetTransform()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for label in found:
        label.paint(painter)
    painter.restore()
