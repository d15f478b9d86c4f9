"""Scene items: blocks (with their ports) and wires.

Items are cheap to paint: no graphics effects, text elided once when it changes, device
coordinate caching for blocks, and no text at all when zoomed far out. Ports are not items of
their own; a block knows where its ports are and the view hit-tests them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from builder import catalog
from builder.graph import Block
from builder.validate import Diagnostic
from gui import style

BLOCK_W = 170.0
BLOCK_H = 60.0
PORT_GAP = 18.0
PORT_R = 4.5
DETAIL_LOD = 0.45  # below this zoom, skip text
OVERVIEW_LOD = 0.2  # below this zoom, blocks are plain boxes without ports

ABBREV = {"out_channels": "out", "kernel_size": "k", "stride": "s", "out_features": "out",
          "negative_slope": "slope", "channels": "C", "height": "H", "width": "W"}

ERROR_COLOR = QColor(style.ERROR_COLOR)  # the same red and amber as the diagnostics list
WARNING_COLOR = QColor(style.WARNING_COLOR)
SELECT_COLOR = QColor("#1f6feb")
WIRE_COLOR = QColor("#5b6573")
SKIP_COLOR = QColor("#e36414")
TEXT_COLOR = QColor("#1d232b")
MUTED_TEXT = QColor("#4a5360")


def _fonts() -> tuple[QFont, QFont]:
    title = QFont()
    title.setPointSizeF(9.0)
    title.setBold(True)
    small = QFont()
    small.setPointSizeF(8.0)
    return title, small


@lru_cache(maxsize=8192)
def _elided(text: str) -> str:
    """``text`` shortened to fit a block's small-text line (cached: shapes repeat a lot)."""
    return QFontMetricsF(_fonts()[1]).elidedText(text, Qt.TextElideMode.ElideRight, BLOCK_W - 16)


@lru_cache(maxsize=4096)
def fit_title(block_id: str) -> tuple[str, float]:
    """The id as drawn and its point size: 9 pt, 8 pt if that fits, else 8 pt elided in the middle."""
    font = _fonts()[0]
    width = BLOCK_W - 16
    if QFontMetricsF(font).horizontalAdvance(block_id) <= width:
        return block_id, 9.0
    font.setPointSizeF(8.0)
    return QFontMetricsF(font).elidedText(block_id, Qt.TextElideMode.ElideMiddle, width), 8.0


def params_text(block: Block) -> str:
    """``Conv2d out=16 k=3 s=2``: the label and the key parameters."""
    spec = block.spec
    parts = [f"{ABBREV.get(name, name)}={block.params.get(name)}" for name in spec.key_params]
    return " ".join([spec.label, *parts])


_BLOCK_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable


def input_port_count(type_id: str, wired_ports: set[int]) -> int:
    """Ports to draw: the arity, or for Add/Concat one free port beyond the wired ones (≥ 2)."""
    arity = catalog.get(type_id).arity
    if arity is not None:
        return max(arity, max(wired_ports, default=-1) + 1)
    return max(2, max(wired_ports, default=-1) + 2)


class BlockItem(QGraphicsItem):
    """One block: a rounded box with a category colour bar, its text and its ports."""

    def __init__(self, block: Block, wired: set[int]) -> None:
        super().__init__()
        self.block_id = block.id
        self.type_id = block.type
        self._color = QColor(style.color_for(block.type))  # one colour per category, app-wide
        self._fill = QColor(self._color).lighter(185)
        self._wired: set[int] = set(wired)
        self._lines = ("", "", _elided("→ ?"))
        self._title_pt = 9.0
        self._shape_text = "?"
        self._severity = ""  # "", "warning" or "error"
        self._tip = ""
        self._tint: QColor | None = None  # a fill override (gradient heat), see set_tint
        self.n_inputs = input_port_count(block.type, self._wired)
        self._bounds = self._measure()
        self.has_output = block.type != "output"
        self.setFlags(_BLOCK_FLAGS)  # no geometry-change callbacks: whoever moves it re-places wires
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(2)
        self.setPos(QPointF(*block.pos))
        self.set_block(block)

    # ------------------------------------------------------------------ state
    @property
    def height(self) -> float:
        return max(BLOCK_H, 16.0 + self.n_inputs * PORT_GAP)

    def _measure(self) -> QRectF:
        """The bounding rectangle: the box, its ports and the selection ring."""
        return QRectF(-PORT_R - 2, -6, BLOCK_W + 2 * PORT_R + 4, self.height + 12)

    def set_block(self, block: Block) -> None:
        """Refresh the id and parameter text (after a rename or a parameter change)."""
        self.block_id = block.id
        title, self._title_pt = fit_title(block.id)
        self._lines = (title, _elided(params_text(block)), self._lines[2])
        self.update()

    def set_shape(self, text: str) -> None:
        if text != self._shape_text:
            self._shape_text = text
            self._lines = (self._lines[0], self._lines[1], _elided("→ " + text))
            self.update()

    def set_diagnostics(self, diagnostics: Sequence[Diagnostic]) -> None:
        if not diagnostics and not self._tip:
            return  # the common case: still nothing to show
        severity = ""
        if diagnostics:
            severity = "error" if any(d.severity == "error" for d in diagnostics) else "warning"
        tip = "\n".join(f"{d.severity}: {d.message}" for d in diagnostics)
        if severity != self._severity or tip != self._tip:
            self._severity = severity
            self._tip = tip
            self.setToolTip(tip)
            self.update()

    @property
    def severity(self) -> str:
        return self._severity

    def set_tint(self, color: QColor | None) -> None:
        """Fill the block with ``color`` (e.g. gradient heat); None restores the category fill."""
        if color != self._tint:
            self._tint = None if color is None else QColor(color)
            self.update()

    @property
    def tint(self) -> QColor | None:
        return self._tint

    def set_wired(self, wired: set[int]) -> None:
        """Update filled ports and the port count (Add/Concat grow a free port)."""
        count = input_port_count(self.type_id, wired)
        if count != self.n_inputs:
            self.prepareGeometryChange()
            self.n_inputs = count
            self._bounds = self._measure()
        self._wired = set(wired)
        self.update()

    # ------------------------------------------------------------------ ports
    def input_port_local(self, port: int) -> QPointF:
        top = (self.height - (self.n_inputs - 1) * PORT_GAP) / 2
        return QPointF(0.0, top + port * PORT_GAP)

    def output_port_local(self) -> QPointF:
        return QPointF(BLOCK_W, self.height / 2)

    def input_port_pos(self, port: int) -> QPointF:
        """Scene position of input ``port``."""
        return self.mapToScene(self.input_port_local(port))

    def output_port_pos(self) -> QPointF:
        return self.mapToScene(self.output_port_local())

    def port_at(self, scene_pos: QPointF, radius: float) -> tuple[str, int] | None:
        """``("in", port)`` or ``("out", 0)`` when ``scene_pos`` is on a port."""
        local = self.mapFromScene(scene_pos)
        if self.has_output and _near(local, self.output_port_local(), radius):
            return ("out", 0)
        for port in range(self.n_inputs):
            if _near(local, self.input_port_local(port), radius):
                return ("in", port)
        return None

    # ------------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, BLOCK_W, self.height), 6, 6)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect = QRectF(0, 0, BLOCK_W, self.height)
        if lod < OVERVIEW_LOD:  # far out: a plain coloured box is all that can be seen
            painter.setPen(QPen(SELECT_COLOR, 6) if self.isSelected() else self._outline())
            painter.setBrush(QBrush(self._tint or self._color.lighter(140)))
            painter.drawRect(rect)
            return
        painter.setPen(self._outline())
        painter.setBrush(QBrush(self._tint or self._fill))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self._color))
        painter.drawRoundedRect(QRectF(1, 1, 6, self.height - 2), 3, 3)
        if self.isSelected():  # a ring outside, so a red outline stays visible when selected
            painter.setPen(QPen(SELECT_COLOR, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-3.5, -3.5, 3.5, 3.5), 8, 8)
        if lod >= DETAIL_LOD:
            self._paint_text(painter)
        self._paint_ports(painter)

    def _outline(self) -> QPen:
        if self._severity == "error":
            return QPen(ERROR_COLOR, 2.5)
        if self._severity == "warning":
            return QPen(WARNING_COLOR, 2.0, Qt.PenStyle.DashLine)
        return QPen(self._color.darker(130), 1.2)

    def _paint_text(self, painter: QPainter) -> None:
        title, small = _fonts()
        top = (self.height - 48) / 2
        dark = self._tint is not None and self._tint.lightnessF() < 0.45
        text, muted = (QColor("white"), QColor("#e6e6e6")) if dark else (TEXT_COLOR, MUTED_TEXT)
        painter.setPen(text)
        title.setPointSizeF(self._title_pt)
        painter.setFont(title)
        painter.drawText(QRectF(12, top, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter, self._lines[0])
        painter.setFont(small)
        painter.setPen(muted)
        painter.drawText(QRectF(12, top + 16, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter,
                         self._lines[1])
        painter.setPen(ERROR_COLOR if self._severity == "error" else text)
        painter.drawText(QRectF(12, top + 32, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter,
                         self._lines[2])

    def _paint_ports(self, painter: QPainter) -> None:
        painter.setPen(QPen(self._color.darker(150), 1.2))
        for port in range(self.n_inputs):
            painter.setBrush(QBrush(self._color if port in self._wired else QColor("white")))
            painter.drawEllipse(self.input_port_local(port), PORT_R, PORT_R)
        if self.has_output:
            painter.setBrush(QBrush(self._color))
            painter.drawEllipse(self.output_port_local(), PORT_R, PORT_R)


def _near(a: QPointF, b: QPointF, radius: float) -> bool:
    d = a - b
    return d.x() * d.x() + d.y() * d.y() <= radius * radius


def wire_path(start: QPointF, end: QPointF, skip: bool = False, lane: float | None = None,
              enters_frame: bool = False) -> QPainterPath:
    """A cubic curve from an output port to an input port.

    A wire that runs backwards (to the next row of a banded layout), or one that enters a
    group frame in another row, leaves to the right, runs along ``lane`` (a y in the gap
    above the target's frame, given by the scene) and enters from the left; skip wires take a
    lane 10 px higher so the two stay apart.
    """
    path = QPainterPath(start)
    dx = end.x() - start.x()
    if dx >= 40 and not (enters_frame and lane is not None and abs(end.y() - start.y()) > 80):
        bend = max(30.0, dx / 2)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        return path
    if lane is None:
        lane = end.y() - 45 if end.y() > start.y() else end.y() + 45
    lane -= 10 if skip else 0
    out = QPointF(start.x() + 30, lane)
    inn = QPointF(end.x() - 30, lane)
    path.cubicTo(start + QPointF(30, 0), QPointF(out.x(), start.y()), out)
    path.lineTo(inn)
    path.cubicTo(QPointF(inn.x(), end.y()), end - QPointF(30, 0), end)
    return path


@lru_cache(maxsize=1024)
def _label_width(text: str) -> float:
    font = _fonts()[1]
    font.setPointSizeF(7.5)
    return QFontMetricsF(font).horizontalAdvance(text) + 6


class WireItem(QGraphicsItem):
    """A wire from a block output to an input port, labelled with its tensor shape."""

    def __init__(self, source: str, target: str, port: int) -> None:
        super().__init__()
        self.source, self.target, self.port = source, target, port
        self.skip = False
        self._label = ""
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._bounds = QRectF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(1)

    def set_ends(self, start: QPointF, end: QPointF, lane: float | None = None,
                 enters_frame: bool = False) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(start, end, self.skip, lane, enters_frame)
        self._shape = None
        mid = self._path.pointAtPercent(0.5)
        if self._path.elementCount() > 4:  # routed along a lane: label where it is read
            out, inn = self._path.elementAt(3), self._path.elementAt(4)
            sign = 1.0 if inn.x >= out.x else -1.0
            mid = QPointF(out.x + sign * 40, out.y) if self.skip else QPointF(inn.x - sign * 40, inn.y)
        self._label_pos = mid
        self._bounds = self._path.boundingRect().united(QRectF(mid.x() - 40, mid.y() - 16, 80, 20))
        self._bounds.adjust(-4, -4, 4, 4)

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
        if self._label and option.levelOfDetailFromTransform(painter.worldTransform()) >= DETAIL_LOD:
            self._paint_label(painter, color)

    def _paint_label(self, painter: QPainter, color: QColor) -> None:
        _, small = _fonts()
        small.setPointSizeF(7.5)
        painter.setFont(small)
        width = _label_width(self._label)
        box = QRectF(self._label_pos.x() - width / 2, self._label_pos.y() - 15, width, 13)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 215))
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(color)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._label)
