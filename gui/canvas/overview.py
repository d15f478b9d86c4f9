"""Names drawn over the canvas when zoomed out, in a font that keeps its size on screen.

Below :data:`~gui.canvas.items.FULL_LOD` a group frame's own name strip is too small to read,
so the view labels each frame here: its name and its output shape ("layer2.0 → 32×16×16"),
on a pill at the frame's top-left corner (kept on screen while the frame is). While blocks
still show their compact text the pill is smaller and sits on the frame's top edge, off the
blocks. Labels are placed outer groups first; one that would cover a name already placed
slides right along its frame's top (``layer2 → …  layer2.0 → …``) or, past the frame's
right edge, is left out, so a fitted
ResNet-110 reads as a map of stages and blocks, never as a wall of empty boxes. Once blocks
are too small for their own text, ungrouped blocks get their names here too, and so do
grouped ones while they are still 40 px wide, where there is room.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from builder.layout import BLOCK_W
from gui.canvas.items import COMPACT_LOD, FULL_LOD, TEXT_COLOR, short_id
from gui.canvas.viewapi import CanvasViewApi

NAME_PX = 12  # the name's font height on screen (far out, where blocks show no text)
SHAPE_PX = 11
SMALL = (10, 9)  # ... where blocks show their compact text: a smaller pill on the frame's edge
PILL = QColor(255, 255, 255, 230)


@lru_cache(maxsize=8)
def _font(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


@lru_cache(maxsize=8192)
def _width(text: str, pixels: int, bold: bool) -> float:
    return QFontMetricsF(_font(pixels, bold)).horizontalAdvance(text)


def pill_height(small: bool) -> float:
    return SMALL[0] + 4 if small else NAME_PX + 8


class Label:
    """One label: its name, its shape text, where it sits (view pixels) and its colour."""

    def __init__(self, name: str, shape: str, anchor: QPointF, color: QColor, room: float,
                 small: bool = False) -> None:
        self.name, self.shape, self.color = name, shape, color
        self.px = SMALL if small else (NAME_PX, SHAPE_PX)
        width = _width(name, self.px[0], True) + (_width("  " + shape, self.px[1], False) if shape else 0)
        self.rect = QRectF(anchor.x(), anchor.y(), min(width, max(room, 40.0)) + 10, pill_height(small))
        self.slide: float | None = None  # how far right the label may move to make way (frames)

    def paint(self, painter: QPainter) -> None:
        painter.setPen(QPen(self.color, 1.2))
        painter.setBrush(PILL)
        painter.drawRoundedRect(self.rect, 5, 5)
        inner = self.rect.adjusted(5, 0, -5, 0)
        bold = _font(self.px[0], True)
        painter.setFont(bold)
        painter.setPen(self.color.darker(160))
        name = QFontMetricsF(bold).elidedText(self.name, Qt.TextElideMode.ElideMiddle, inner.width())
        painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter, name)
        used = _width(name, self.px[0], True)
        if self.shape and used + 30 < inner.width():
            painter.setFont(_font(self.px[1], False))
            painter.setPen(TEXT_COLOR)
            painter.drawText(inner.adjusted(used, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, "  " + self.shape)


def labels(view: CanvasViewApi) -> list[Label]:
    """The labels to draw at the view's zoom, overlaps removed (empty when items show their text)."""
    zoom = view.zoom()
    if zoom >= FULL_LOD:
        return []
    visible = QRectF(view.viewport().rect())
    placed: list[Label] = []
    small = zoom >= COMPACT_LOD  # blocks show their own text: keep off them
    for label in _frame_labels(view, visible, small) + ([] if small else _block_labels(view, visible)):
        start = label.rect.left()
        for _ in range(3):  # slide right past a name already there, within the frame
            clash = next((p for p in placed if label.rect.intersects(p.rect)), None)
            if clash is None or label.slide is None:
                break
            label.rect.moveLeft(clash.rect.right() + 6)
        inside = label.slide is None or label.rect.left() == start or label.rect.right() <= label.slide
        free = not any(label.rect.intersects(p.rect) for p in placed)
        if inside and free and visible.intersects(label.rect):
            placed.append(label)
    return placed


def _frame_labels(view: CanvasViewApi, visible: QRectF, small: bool) -> list[Label]:
    frames = [f for f in view.graph_scene.frames.values() if f.isVisible()]
    frames.sort(key=lambda f: (f.depth, f.box_rect().top(), f.box_rect().left()))
    out = []
    for frame in frames:
        box = view.mapFromScene(frame.box_rect()).boundingRect()
        if not box.intersects(visible.toRect()) or box.height() < NAME_PX:
            continue
        # a small name sits on the frame's top edge, clear of the blocks' own text
        height = pill_height(small)
        top = box.top() + 1 if not small else box.top() - height / 2 - 1
        top = min(max(top, visible.top() + 2), box.bottom() - height)  # stays on screen with the frame
        anchor = QPointF(box.left() + 4, top)
        shape = frame.summary.rpartition("→ ")[2] if frame.summary else ""
        name = ("▸ " if frame.collapsed else "") + frame.path
        label = Label(name, f"→ {shape}" if shape and shape != "—" else "", anchor,
                      QColor(frame.edge_color()), max(box.width() - 8, 220.0), small)
        label.slide = box.right()
        out.append(label)
    return out


def _block_labels(view: CanvasViewApi, visible: QRectF) -> list[Label]:
    """Ungrouped blocks' names, then (where blocks are still 40 px wide) grouped blocks' short names."""
    loose: list[Label] = []
    grouped: list[Label] = []
    graph = view.doc.graph
    wide = BLOCK_W * view.zoom() >= 40
    frames = [QRectF(view.mapFromScene(f.box_rect()).boundingRect())
              for f in view.graph_scene.frames.values() if f.isVisible()]
    for block_id, item in view.graph_scene.blocks.items():
        group = graph.block(block_id).group
        if not item.isVisible() or (group and not wide):
            continue
        box = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        if box.intersects(visible.toRect()):
            top = max(box.top() - NAME_PX - 10, visible.top() + 2)
            name = short_id(block_id, group) if group else block_id
            label = Label(name, "", QPointF(box.left(), top), QColor("#5b6573"), 120.0)
            if not group and any(label.rect.intersects(f) for f in frames):
                label.rect.moveTop(box.bottom() + 2)  # above would cover the frame over the block
            (grouped if group else loose).append(label)
    return loose + grouped


def paint(view: CanvasViewApi, painter: QPainter) -> None:
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
