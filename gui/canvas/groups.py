"""Group frames: labelled, translucent boxes around the blocks of a group path.

Nested group paths (``layer2`` around ``layer2.0``) draw nested frames. A frame collapses
to one box showing "input shape → output shape"; that is view state only and never touches
the graph. Clicking the ▾ at the start of a frame's name collapses it, the ▸ of a collapsed
box expands it. Only a frame's label strip (or the whole collapsed box) takes mouse clicks,
so a rubber band can still start on the background inside a frame. When zoomed far out the
view draws the frames' names itself (see ``overview``).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from builder.layout import BLOCK_W, FRAME_LABEL_H, FRAME_LABEL_W, FRAME_PAD, PORT_R
from gui.canvas.items import FULL_LOD, SELECT_COLOR, TEXT_COLOR

PAD = FRAME_PAD
LABEL_H = FRAME_LABEL_H
TOGGLE_W = 20.0  # the ▾ / ▸ hit area at the start of a frame's name
BOX_W = BLOCK_W + 30
BOX_H = 56.0
_TINTS = ("#4f7cac", "#6a994e", "#9c6644", "#7b5ea7")


class GroupFrameItem(QGraphicsItem):
    """The frame of one group path; ``collapsed`` turns it into a single box."""

    def __init__(self, group: str) -> None:
        super().__init__()
        self.path = group  # not .group: that is QGraphicsItem.group()
        self.depth = group.count(".")
        self.collapsed = False
        self.summary = ""  # "16×32×32 → 32×16×16" shown when collapsed
        self.count = 0  # blocks inside, shown when collapsed
        self._rect = QRectF()  # the expanded frame, in scene coordinates
        tint = QColor(_TINTS[self.depth % len(_TINTS)])
        self._edge = tint
        self._fill = QColor(tint)
        self._fill.setAlpha(22)
        self.setZValue(-10 + self.depth)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setToolTip(f"group {group}: click ▾ to collapse, ▸ to expand; drag the name to move it")

    # ------------------------------------------------------------------ geometry
    def set_rect(self, rect: QRectF) -> bool:
        """Set the expanded frame rectangle (scene coordinates); True when it changed."""
        if rect == self._rect:
            return False
        self.prepareGeometryChange()
        self._rect = QRectF(rect)
        return True

    def expanded_rect(self) -> QRectF:
        return QRectF(self._rect)

    def edge_color(self) -> QColor:
        return QColor(self._edge)

    def set_collapsed(self, collapsed: bool) -> None:
        if collapsed != self.collapsed:
            self.prepareGeometryChange()
            self.collapsed = collapsed
            self.setZValue(3 if collapsed else -10 + self.depth)

    def box_rect(self) -> QRectF:
        """The rectangle drawn now: the whole frame, or the collapsed box at its top-left."""
        if self.collapsed:
            return QRectF(self._rect.topLeft(), self._rect.topLeft() + QPointF(BOX_W, BOX_H))
        return QRectF(self._rect)

    def input_port_pos(self, port: int = 0) -> QPointF:
        box = self.box_rect()
        return QPointF(box.left(), box.center().y())

    def output_port_pos(self) -> QPointF:
        box = self.box_rect()
        return QPointF(box.right(), box.center().y())

    def label_rect(self) -> QRectF:
        r = self._rect
        return QRectF(r.left(), r.top(), min(r.width(), FRAME_LABEL_W), LABEL_H + 2)

    def toggle_rect(self) -> QRectF:
        """The ▾ (expanded) or ▸ (collapsed) that collapses or expands the frame when clicked."""
        if self.collapsed:
            box = self.box_rect()
            return QRectF(box.left() + 4, box.top() + 2, TOGGLE_W, BOX_H / 2)
        return QRectF(self._rect.left() + 3, self._rect.top(), TOGGLE_W, LABEL_H + 2)

    def boundingRect(self) -> QRectF:
        return self.box_rect().adjusted(-PORT_R - 2, -2, PORT_R + 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.box_rect() if self.collapsed else self.label_rect())
        return path

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if self.collapsed:
            self._paint_box(painter, lod)
            return
        painter.setPen(QPen(self._edge, 1.2))
        painter.setBrush(QBrush(self._fill))
        painter.drawRoundedRect(self._rect, 9, 9)
        if lod >= FULL_LOD:  # further out the view labels frames in a screen-size font
            font = QFont()
            font.setPointSizeF(8.5)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(self._edge.darker(140))
            painter.drawText(self.label_rect().adjusted(9, 1, 0, 0), Qt.AlignmentFlag.AlignVCenter,
                             f"▾ {self.path}")

    def _paint_box(self, painter: QPainter, lod: float) -> None:
        box = self.box_rect()
        fill = QColor(self._edge).lighter(170)
        painter.setPen(QPen(SELECT_COLOR if self.isSelected() else self._edge.darker(120), 1.6))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(box, 8, 8)
        if lod >= FULL_LOD:
            font = QFont()
            font.setPointSizeF(9.0)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(TEXT_COLOR)
            painter.drawText(box.adjusted(10, 6, -6, -BOX_H / 2), Qt.AlignmentFlag.AlignVCenter,
                             f"▸ {self.path}  ({self.count} blocks)")
            font.setBold(False)
            font.setPointSizeF(8.0)
            painter.setFont(font)
            painter.drawText(box.adjusted(10, BOX_H / 2, -6, -6), Qt.AlignmentFlag.AlignVCenter,
                             self.summary)
        painter.setPen(QPen(self._edge.darker(150), 1.2))
        painter.setBrush(QBrush(self._edge))
        painter.drawEllipse(self.input_port_pos(), PORT_R, PORT_R)
        painter.drawEllipse(self.output_port_pos(), PORT_R, PORT_R)
