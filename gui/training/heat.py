"""Gradient heat on the canvas: each parameterised block tinted by its gradient magnitude.

The colour is the block's weight-gradient norm on a log scale (the run's latest profile,
scaled between its smallest and largest value), from dark (vanishing) to bright (large).
A block's text colour follows the tint's brightness (see ``gui.canvas.items.text_colors``).
A small legend sits in the canvas's lower-left corner while some block on the canvas is
tinted: it goes when the last tinted block is removed or the graph is replaced.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from gui.training.history import RunData

LEVELS = 24  # tints are quantised, so a block repaints only when its colour visibly changes
EVERY_S = 2.0  # the canvas re-tints at most this often during a run (repainting blocks costs GUI time)
LOW, HIGH = 0.12, 0.96  # the part of the colour map used (pure black hides the block's text)
# matplotlib's "inferno" at 0, 1/6, …, 1 (the plots' heatmap uses the same map)
INFERNO = np.array([(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66),
                    (245, 125, 21), (250, 193, 39), (252, 255, 164)], dtype=float)


def heat_color(t: float) -> QColor:
    """The tint for ``t`` in [0, 1] (0 = smallest gradient)."""
    u = (LOW + (HIGH - LOW) * min(1.0, max(0.0, t))) * (len(INFERNO) - 1)
    i = min(int(u), len(INFERNO) - 2)
    r, g, b = INFERNO[i] + (u - i) * (INFERNO[i + 1] - INFERNO[i])
    return QColor(round(r), round(g), round(b))


def tints(run: RunData) -> tuple[dict[str, QColor], float, float]:
    """``{block id: colour}`` for the run's latest profile, and the log10 range it spans."""
    profile = run.latest_profile()
    if profile is None or not len(run.block_ids):
        return {}, math.nan, math.nan
    finite = profile[np.isfinite(profile)]
    if not finite.size:
        return {}, math.nan, math.nan
    lo, hi = float(finite.min()), float(finite.max())
    span = max(hi - lo, 1e-9)
    pairs = zip(run.block_ids, profile, strict=True)
    out = {b: heat_color(round(LEVELS * (v - lo) / span) / LEVELS) for b, v in pairs if math.isfinite(v)}
    return out, lo, hi


class HeatLegend(QWidget):
    """A colour bar with its log range, drawn over the canvas."""

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.lo = self.hi = math.nan
        self.title = ""
        self.setFixedSize(250, 58)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        canvas.installEventFilter(self)
        self._place()
        self.hide()

    def set_range(self, lo: float, hi: float, title: str) -> None:
        self.lo, self.hi, self.title = lo, hi, title
        self._place()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        """Bottom-left of the canvas, wide enough for the title (the run's name) where it fits."""
        parent = self.parentWidget()
        if parent is not None:
            wanted = self.fontMetrics().horizontalAdvance(self.title) + 20
            self.setFixedSize(max(250, min(wanted, parent.width() - 24)), 58)
            self.move(12, parent.height() - self.height() - 12)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor("#999"))
        p.setBrush(QColor(255, 255, 255, 225))
        p.drawRoundedRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1), 5, 5)
        bar = QRectF(10, 24, self.width() - 20, 12)
        gradient = QLinearGradient(QPointF(bar.left(), 0), QPointF(bar.right(), 0))
        for k in range(11):
            gradient.setColorAt(k / 10, heat_color(k / 10))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(gradient)
        p.drawRect(bar)
        p.setPen(QColor("#222"))
        title = self.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideMiddle, self.width() - 16)
        p.drawText(QRectF(8, 3, self.width() - 16, 18), Qt.AlignmentFlag.AlignLeft, title)
        if math.isfinite(self.lo):
            p.drawText(QRectF(8, 38, 120, 18), Qt.AlignmentFlag.AlignLeft, f"{10 ** self.lo:.2g}")
            p.drawText(QRectF(self.width() - 128, 38, 120, 18), Qt.AlignmentFlag.AlignRight,
                       f"{10 ** self.hi:.2g}")
        p.end()


class CanvasHeat:
    """Applies a run's gradient heat to the canvas scene and keeps the legend in step."""

    def __init__(self, canvas: object) -> None:
        self.canvas = canvas
        self.legend = HeatLegend(canvas)  # type: ignore[arg-type]
        self.enabled = True
        self.run: RunData | None = None
        self._drawn = -1
        self._last = 0.0
        self._retint = QTimer(self.legend, singleShot=True, interval=0)  # once per event-loop turn
        self._retint.timeout.connect(self._blocks_changed)
        doc = getattr(canvas, "doc", None)
        if doc is not None:
            doc.graph_event.connect(self._on_graph_event)
            doc.graph_replaced.connect(lambda: self.show_run(None))

    def _on_graph_event(self, event: object) -> None:
        if getattr(event, "kind", "") in ("block_added", "block_removed", "block_renamed") and self.run:
            self._retint.start()

    def _blocks_changed(self) -> None:
        """Blocks came or went: tint again (the legend goes with the last tinted block)."""
        self._drawn = -1
        self.refresh(force=True)

    def show_run(self, run: RunData | None) -> None:
        """Tint from ``run`` (None clears the heat)."""
        self.run, self._drawn = run, -1
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Re-tint when the run changed, at most every :data:`EVERY_S` seconds unless ``force``."""
        run = self.run if self.enabled else None
        if run is not None and run.version == self._drawn:
            return
        now = time.monotonic()
        if run is not None and self._drawn != -1 and not force and now - self._last < EVERY_S:
            return
        self._last = now
        scene = self.canvas.graph_scene  # type: ignore[attr-defined]
        colors, lo, hi = tints(run) if run is not None else ({}, math.nan, math.nan)
        known = {b: c for b, c in colors.items() if b in scene.graph}
        scene.set_block_tints(known)
        self._drawn = run.version if run is not None else -1
        if known:
            self.legend.set_range(lo, hi, f"‖∂L/∂W‖ by block (log) — {run.name}")  # type: ignore[union-attr]
        self.legend.setVisible(bool(known))
