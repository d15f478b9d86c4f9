"""The plots as PNG: one plot or the whole set, drawn at a fixed size off screen, with a legend.

The image does not depend on the dock's size: a hidden twin of the plots widget,
:data:`EXPORT_SIZE` pixels in two rows of three, shows the same runs with the same options; one
plot (the heatmap with its colour bar) or the whole set is grabbed from it, and a legend — every
shown run in its colour with its health findings, then the line styles — is painted above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

from gui.training.history import COLORS, RunData

EXPORT_SIZE = (1800, 1000)  # the hidden twin's size: each plot about 580 × 470 px
STYLES = "— train   ┄ val   ⋯ step 0"
FINDINGS = "   ┆ health finding (red: ended the run)"
PAD = 10


def save(widget: Any, key: str, path: str | Path) -> None:
    """Write plot ``key`` of ``widget`` (a PlotsWidget), or ``"all"``, as a PNG at ``path``."""
    image = render(widget, key)
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]  # the stubs say bytes; PySide takes str
        raise OSError("could not write the PNG (does the folder exist, and may it be written?)")


def render(widget: Any, key: str) -> QImage:
    """The legend above plot ``key`` (or the whole set for ``"all"``), drawn by a hidden twin."""
    twin = type(widget)()
    try:
        twin.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        twin.log_loss.setChecked(widget.log_loss.isChecked())
        twin.weights_only.setChecked(widget.weights_only.isChecked())
        twin.resize(*EXPORT_SIZE)
        twin.show()
        twin.arrange(2)
        twin.show_runs(widget.runs)
        twin.graphics.ci.layout.activate()
        body = twin.graphics.grab(_area(twin, key))
    finally:
        twin.close()
        twin.deleteLater()
    return stack(legend_image(widget.runs, body.width()), body.toImage())


def _area(twin: Any, key: str) -> QRect:
    """The view rectangle of plot ``key`` (with the colour bar for the heatmap), or all."""
    view = twin.graphics
    if key == "all":
        return view.rect()
    items = [twin.plots[key]] + ([twin.colorbar] if key == "heatmap" else [])
    rect = QRect()
    for item in items:
        rect = rect.united(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
    return rect.adjusted(-4, -4, 4, 4).intersected(view.rect())


def run_color(run: RunData, fallback: int = 0) -> QColor:
    """The colour a run is drawn in (its own, else the ``fallback``-th of the palette)."""
    return QColor(run.color or COLORS[fallback % len(COLORS)])


def legend_image(runs: list[Any], width: int) -> QImage:
    """Every run in its colour (with its findings' titles), then the line styles, wrapped to ``width``."""
    font = QFont()
    font.setPointSizeF(10)
    metrics = QFontMetrics(font)
    entries: list[tuple[QColor | None, str]] = []
    for i, run in enumerate(runs):
        notes = ", ".join(f"{f.title} at epoch {f.x:.3g}" for f in getattr(run, "health", []))
        entries.append((run_color(run, i), run.name + (f"  (⚠ {notes})" if notes else "")))
    entries.append((None, STYLES + (FINDINGS if any(getattr(r, "health", []) for r in runs) else "")))
    line_h = metrics.height() + 6
    placed, x, y = [], PAD, PAD
    for color, text in entries:
        w = (30 if color is not None else 0) + metrics.horizontalAdvance(text) + 24
        if x + w > width - PAD and x > PAD:
            x, y = PAD, y + line_h
        placed.append((x, y, color, text))
        x += w
    image = QImage(max(1, width), y + line_h + PAD // 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    for x, y, color, text in placed:
        middle = y + line_h // 2
        if color is not None:
            painter.setPen(QPen(color, 3))
            painter.drawLine(x, middle, x + 22, middle)
            x += 30
        painter.setPen(QColor("#222" if color is not None else "#555"))
        painter.drawText(QRect(x, y, width, line_h), int(Qt.AlignmentFlag.AlignVCenter), text)
    painter.end()
    return image


def stack(top: QImage, bottom: QImage) -> QImage:
    """``top`` above ``bottom`` on white, as one image."""
    width, height = max(top.width(), bottom.width()), top.height() + bottom.height()
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(QPoint(0, 0), top)
    painter.drawImage(QPoint(0, top.height()), bottom)
    painter.end()
    return image
