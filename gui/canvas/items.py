"""Scene items for blocks (with their ports); wires are in ``wires``.

Items are cheap to paint: no graphics effects, text elided once when it changes, device
coordinate caching. Text has three levels of detail: the full three lines (id, parameters,
output shape) from :data:`FULL_LOD`; from :data:`COMPACT_LOD` (a block about 65 px wide on
screen) two lines — the id without its group prefix and the output shape — in a font that
keeps a readable size on screen; below that none (the view labels group frames instead).
Text colours are chosen for contrast with the fill, so a gradient tint never hides them.
Ports are not items of their own; a block knows where its ports are and the view hit-tests
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from builder.graph import Block
from builder.layout import (
    BLOCK_H,
    BLOCK_W,
    ITEM_PAD_X,
    ITEM_PAD_Y,
    PORT_GAP,
    PORT_R,
    block_height,
    input_port_count,
)
from builder.validate import Diagnostic
from gui import style

FULL_LOD = 0.75  # from this zoom up: id, parameters and shape in the normal fonts
COMPACT_LOD = 0.38  # from this zoom up: short id and shape in a font of readable screen size
OVERVIEW_LOD = 0.2  # below this zoom, blocks are plain boxes without ports
DETAIL_LOD = COMPACT_LOD  # wire labels and frame names are drawn from here up
COMPACT_PX = (11.0, 10.0)  # the compact lines' font heights on screen, in pixels

ABBREV = {"out_channels": "out", "kernel_size": "k", "stride": "s", "out_features": "out",
          "negative_slope": "slope", "channels": "C", "height": "H", "width": "W"}

ERROR_COLOR = QColor(style.ERROR_COLOR)  # the same red and amber as the diagnostics list
WARNING_COLOR = QColor(style.WARNING_COLOR)
SELECT_COLOR = QColor("#1f6feb")
TEXT_COLOR = QColor("#1d232b")
MUTED_TEXT = QColor("#4a5360")
ERROR_TEXT = QColor("#b3261e")  # error text on a light, untinted fill (4.5:1 on white and up)

__all__ = ["BLOCK_H", "BLOCK_W", "ERROR_COLOR", "BlockItem", "contrast", "text_colors"]


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


@lru_cache(maxsize=64)
def compact_font(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, pixels))
    font.setBold(bold)
    return font


@lru_cache(maxsize=16384)
def compact_text(text: str, pixels: int, bold: bool) -> str:
    """``text`` elided in the middle to a block's width in a font ``pixels`` high (scene units)."""
    metrics = QFontMetricsF(compact_font(pixels, bold))
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, BLOCK_W - 16)


def short_id(block_id: str, group: str) -> str:
    """The id without its group's prefix (``layer1_0_conv1`` in ``layer1.0`` → ``conv1``).

    A bare number keeps the group's last name (``layer1_0_shortcut_0`` → ``shortcut_0``).
    """
    prefix = group.replace(".", "_") + "_" if group else ""
    rest = block_id[len(prefix):] if prefix and block_id.startswith(prefix) else ""
    if rest.isdigit():
        rest = f"{group.rpartition('.')[2]}_{rest}"
    return rest or block_id


def params_text(block: Block) -> str:
    """``Conv2d out=16 k=3 s=2``: the label and the key parameters."""
    spec = block.spec
    parts = [f"{ABBREV.get(name, name)}={block.params.get(name)}" for name in spec.key_params]
    return " ".join([spec.label, *parts])


def _luminance(color: QColor) -> float:
    """WCAG relative luminance."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21; 4.5 is readable body text)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colors(fill: QColor, error: bool, tinted: bool) -> tuple[QColor, QColor, QColor]:
    """Title, detail and shape-line colours readable on ``fill``.

    The usual dark text where it reads (contrast 4.5:1 or more), else white, else black (a
    mid-bright tint such as inferno's red); details in a muted shade only where that reads
    too. The shape line of a block with an error is red only on an untinted fill; on a tint
    (which may itself be red) it keeps the text colour and the red outline marks the error.
    """
    text = _readable(fill, (TEXT_COLOR, QColor("white"), QColor("black")))
    muted = MUTED_TEXT if text == TEXT_COLOR else QColor("#ececec") if text == QColor("white") else text
    if contrast(fill, muted) < 4.5:
        muted = text
    shape = ERROR_TEXT if error and not tinted and contrast(fill, ERROR_TEXT) >= 4.5 else text
    return text, muted, shape


def _readable(fill: QColor, choices: tuple[QColor, ...]) -> QColor:
    """The first of ``choices`` readable on ``fill`` (4.5:1), else the one contrasting most."""
    for color in choices:
        if contrast(fill, color) >= 4.5:
            return color
    return max(choices, key=lambda c: contrast(fill, c))


_BLOCK_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable


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
        self._short = block.id  # the id without its group prefix (compact text)
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
        return block_height(self.type_id, self._wired)

    def _measure(self) -> QRectF:
        """The bounding rectangle: the box, its ports and the selection ring."""
        return QRectF(-ITEM_PAD_X, -ITEM_PAD_Y, BLOCK_W + 2 * ITEM_PAD_X, self.height + 2 * ITEM_PAD_Y)

    def set_block(self, block: Block) -> None:
        """Refresh the id and parameter text (after a rename, a regroup or a parameter change)."""
        self.block_id = block.id
        self._short = short_id(block.id, block.group)
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
        self._wired = set(wired)
        if count != self.n_inputs:
            self.prepareGeometryChange()
            self.n_inputs = count
            self._bounds = self._measure()
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
        outline = self._outline()
        if self._tint is not None and self._severity:  # a white halo: a red outline shows on a red tint
            painter.setPen(QPen(QColor("white"), outline.widthF() + 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(outline)
        painter.setBrush(QBrush(self._tint or self._fill))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self._color))
        painter.drawRoundedRect(QRectF(1, 1, 6, self.height - 2), 3, 3)
        if self.isSelected():  # a ring outside, so a red outline stays visible when selected
            painter.setPen(QPen(SELECT_COLOR, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-3.5, -3.5, 3.5, 3.5), 8, 8)
        if lod >= FULL_LOD:
            self._paint_text(painter)
        elif lod >= COMPACT_LOD:
            self._paint_compact(painter, lod)
        self._paint_ports(painter)

    def _outline(self) -> QPen:
        if self._severity == "error":
            return QPen(ERROR_COLOR, 2.5)
        if self._severity == "warning":
            return QPen(WARNING_COLOR, 2.0, Qt.PenStyle.DashLine)
        return QPen(self._color.darker(130), 1.2)

    def text_colors(self) -> tuple[QColor, QColor, QColor]:
        """Title, detail and shape-line colours for the current fill."""
        return text_colors(self._tint or self._fill, self._severity == "error", self._tint is not None)

    def _paint_text(self, painter: QPainter) -> None:
        title, small = _fonts()
        top = (self.height - 48) / 2
        text, muted, shape = self.text_colors()
        painter.setPen(text)
        title.setPointSizeF(self._title_pt)
        painter.setFont(title)
        painter.drawText(QRectF(12, top, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter, self._lines[0])
        painter.setFont(small)
        painter.setPen(muted)
        painter.drawText(QRectF(12, top + 16, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter,
                         self._lines[1])
        painter.setPen(shape)
        painter.drawText(QRectF(12, top + 32, BLOCK_W - 16, 16), Qt.AlignmentFlag.AlignVCenter,
                         self._lines[2])

    def _paint_compact(self, painter: QPainter, lod: float) -> None:
        """Two lines (short id, shape) whose font stays :data:`COMPACT_PX` high on screen."""
        text, _muted, shape = self.text_colors()
        big, small = (round(px / lod) for px in COMPACT_PX)
        top = (self.height - big - small) / 2
        painter.setPen(text)
        painter.setFont(compact_font(big, True))
        painter.drawText(QRectF(10, top - 2, BLOCK_W - 12, big + 4), Qt.AlignmentFlag.AlignVCenter,
                         compact_text(self._short, big, True))
        painter.setPen(shape)
        painter.setFont(compact_font(small, False))
        painter.drawText(QRectF(10, top + big, BLOCK_W - 12, small + 4), Qt.AlignmentFlag.AlignVCenter,
                         compact_text(self._shape_text, small, False))

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
