"""Live training plots (pyqtgraph): loss, accuracy, learning rate, gradient norm, gradient
magnitude by depth and a block × step heatmap, for one run or several overlaid.

Curves are created once per shown run and updated with ``setData`` from :meth:`PlotsWidget.refresh`
(the controller calls it on a ≤ 10 Hz timer), and only for runs whose data changed. The depth
plot draws, per run, the latest profile bold, earlier ones fading and the step-0 profile dotted
(x = parameterised block in topological order, y = log10 of its weight-gradient norm). The
heatmap puts the shown runs side by side (x = training steps, y = depth from the input at the
bottom to the output at the top, colour = log10 norm on one shared scale): vanishing gradients
are a dark band along the bottom. Hovering the depth plot or the heatmap names the block.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.training.history import COLORS, PLOTS, TITLES, RunData, log10

RECENT = 5  # fading earlier profiles per run
HEAT_W, HEAT_GAP = 100.0, 12.0  # each run's heatmap panel width and the gap between panels
WEIGHTED = ("conv2d", "linear")


def run_color(run: RunData, fallback: int = 0) -> QColor:
    return QColor(run.color or COLORS[fallback % len(COLORS)])


class _RunItems:
    """The plot items of one shown run (created once)."""

    def __init__(self, widget: PlotsWidget, run: RunData, color: QColor) -> None:
        self.run, self.drawn = run, -1
        self.owned: list[tuple[pg.PlotItem, Any]] = []
        c = color
        faint = QColor(c)
        faint.setAlpha(60)
        dash = Qt.PenStyle.DashLine
        self.loss_raw = self._plot(widget, "loss", pen=pg.mkPen(faint, width=1))
        self.loss = self._plot(widget, "loss", pen=pg.mkPen(c, width=2), name=run.name)
        self.val_loss = pg.PlotDataItem(pen=pg.mkPen(c, width=1.5, style=dash), symbol="o", symbolSize=5,
                                        symbolBrush=c, symbolPen=None)
        widget.plots["loss"].addItem(self.val_loss, ignoreBounds=True)  # a val-loss spike keeps the scale
        self.owned.append((widget.plots["loss"], self.val_loss))
        self.acc = self._plot(widget, "accuracy", pen=pg.mkPen(c, width=2), symbol="o", symbolSize=4,
                              symbolBrush=c, symbolPen=None, name=run.name)
        self.val_acc = self._plot(widget, "accuracy", pen=pg.mkPen(c, width=1.5, style=dash))
        self.lr = self._plot(widget, "lr", pen=pg.mkPen(c, width=2))
        self.gnorm = self._plot(widget, "grad_norm", pen=pg.mkPen(c, width=1.2))
        self.recent = []
        for k in range(RECENT):
            shade = QColor(c)
            shade.setAlpha(40 + 30 * k)
            self.recent.append(self._plot(widget, "depth", pen=pg.mkPen(shade, width=1)))
        self.step0 = self._plot(widget, "depth", pen=pg.mkPen(c, width=1.5, style=Qt.PenStyle.DotLine))
        self.now = self._plot(widget, "depth", pen=pg.mkPen(c, width=3), name=run.name)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.label = pg.TextItem(run.name, color=c, anchor=(0.5, 1.0))
        for item in (self.image, self.label):
            widget.plots["heatmap"].addItem(item)
            self.owned.append((widget.plots["heatmap"], item))

    def _plot(self, widget: PlotsWidget, key: str, **kwargs: Any) -> pg.PlotDataItem:
        plot = widget.plots[key]
        item = plot.plot(**kwargs)
        self.owned.append((plot, item))
        return item

    def remove(self) -> None:
        for plot, item in self.owned:
            plot.removeItem(item)
        self.owned.clear()


class PlotsWidget(QWidget):
    """Six live plots over the runs given to :meth:`show_runs`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunData] = []
        self._items: dict[int, _RunItems] = {}
        self._layout_key: tuple[Any, ...] = ()
        self.log_loss = QCheckBox("log loss")
        self.log_loss.setChecked(True)
        self.weights_only = QCheckBox("conv/linear only")
        self.weights_only.setToolTip("Depth plot and heatmap: leave out BatchNorm scales")
        self.weights_only.setChecked(True)
        self.hover = QLabel(" ")
        self.hover.setMinimumWidth(320)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        self._build()
        bar = QHBoxLayout()
        for w in (self.log_loss, self.weights_only):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.hover)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        self.log_loss.toggled.connect(lambda on: self.plots["loss"].setLogMode(False, on))
        self.weights_only.toggled.connect(lambda _on: self._invalidate())
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse)

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        labels = {"loss": ("epoch", "loss"), "accuracy": ("epoch", "accuracy"), "lr": ("epoch", "lr"),
                  "grad_norm": ("epoch", "‖g‖"), "depth": ("block (input → output)", "log10 ‖∂L/∂W‖"),
                  "heatmap": ("steps (per run)", "depth: input ↑ output")}
        for i, key in enumerate(PLOTS):
            plot = self.graphics.addPlot(row=i // 3, col=i % 3, title=TITLES[key])
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", labels[key][0])
            plot.setLabel("left", labels[key][1])
            plot.setClipToView(key in ("loss", "lr", "grad_norm"))
            self.plots[key] = plot
        self.plots["loss"].setLogMode(False, True)
        self.plots["grad_norm"].setLogMode(False, True)
        self.plots["accuracy"].setYRange(0, 1)
        self.plots["loss"].addLegend(offset=(10, -10), labelTextSize="8pt")  # lower left
        self.plots["depth"].addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.clip_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#555", width=1.5, style=Qt.PenStyle.DashLine),
                                         label="clip {value:.3g}", labelOpts={"position": 0.9})
        self.plots["grad_norm"].addItem(self.clip_line)
        self.clip_line.hide()
        heat = self.plots["heatmap"]
        heat.getAxis("bottom").setTicks([[]])
        heat.getAxis("left").setTicks([[(0, "in"), (1, "out")]])
        self.colormap = pg.colormap.get("inferno")
        self.colorbar = pg.ColorBarItem(colorMap=self.colormap, values=(-4, 0), interactive=False,
                                        label="log10 ‖∂L/∂W‖", width=12)
        self.graphics.addItem(self.colorbar, row=1, col=3)

    # ------------------------------------------------------------------ runs shown
    def show_runs(self, runs: list[RunData]) -> None:
        """Overlay ``runs`` (curves of runs no longer shown are removed)."""
        keep = {id(r) for r in runs}
        for key in [k for k in self._items if k not in keep]:
            self._items.pop(key).remove()
        for i, run in enumerate(runs):
            if id(run) not in self._items:
                self._items[id(run)] = _RunItems(self, run, run_color(run, i))
        self.runs = list(runs)
        self._invalidate()

    def _invalidate(self) -> None:
        for items in self._items.values():
            items.drawn = -1
        self.refresh()

    def refresh(self) -> None:
        """Redraw the runs whose data changed since the last call."""
        changed = False
        for run in self.runs:
            items = self._items[id(run)]
            if items.drawn != run.version:
                self._draw(items)
                items.drawn = run.version
                changed = True
        if changed:
            self._draw_heat()
            self._draw_clip()

    # ------------------------------------------------------------------ drawing
    def _draw(self, it: _RunItems) -> None:
        run = it.run
        s = run.steps.view()
        if len(s):
            it.loss_raw.setData(s[:, 0], _positive(s[:, 1]), connect="finite")
            it.loss.setData(s[:, 0], _positive(s[:, 2]), connect="finite")
            it.lr.setData(s[:, 0], s[:, 4])
            it.gnorm.setData(s[:, 0], _positive(s[:, 5]), connect="finite")
        if run.epochs:
            e = np.array([(m.epoch, m.train_loss, m.val_loss, m.train_acc, m.val_acc) for m in run.epochs])
            it.val_loss.setData(e[:, 0], _positive(e[:, 2]), connect="finite")
            it.acc.setData(e[:, 0], e[:, 3])
            it.val_acc.setData(e[:, 0], e[:, 4])
        keep = self._kept_blocks(run)
        x = np.arange(len(keep), dtype=float)
        now = run.latest_profile()
        if now is not None and len(keep):
            it.now.setData(x, now[keep], connect="finite")
        if run.step0 is not None and len(keep) and len(run.step0) == len(run.block_ids):
            it.step0.setData(x, run.step0[keep], connect="finite")
        recent = run.recent_profiles(RECENT)
        for curve, profile in zip(it.recent[-len(recent):] if recent else [], recent, strict=False):
            curve.setData(x, profile[keep], connect="finite")

    def _kept_blocks(self, run: RunData) -> np.ndarray:
        if not self.weights_only.isChecked() or not run.block_types:
            return np.arange(len(run.block_ids))
        return np.array([i for i, t in enumerate(run.block_types) if t in WEIGHTED], dtype=int)

    def heat_images(self) -> list[tuple[RunData, np.ndarray]]:
        """Per shown run with gradient samples: its (steps × kept blocks) log10 image."""
        out = []
        for run in self.runs:
            if run.heat is not None and len(run.heat):
                out.append((run, run.heat.view()[:, 1:][:, self._kept_blocks(run)]))
        return out

    def _draw_heat(self) -> None:
        images = self.heat_images()
        finite = np.concatenate([img[np.isfinite(img)] for _r, img in images]) if images else np.array([])
        lo, hi = (np.percentile(finite, 1), np.percentile(finite, 99.5)) if finite.size else (-4.0, 0.0)
        hi = max(hi, lo + 0.5)
        for run in self.runs:
            self._items[id(run)].image.setVisible(False)
            self._items[id(run)].label.setVisible(False)
        for k, (run, img) in enumerate(images):
            it = self._items[id(run)]
            filled = np.where(np.isfinite(img), img, lo)
            it.image.setImage(filled, levels=(lo, hi), lut=self.colormap.getLookupTable(nPts=256))
            it.image.setRect(QRectF(k * (HEAT_W + HEAT_GAP), 0.0, HEAT_W, 1.0))
            it.label.setPos(k * (HEAT_W + HEAT_GAP) + HEAT_W / 2, 1.08)
            it.image.setVisible(True)
            it.label.setVisible(True)
        self.colorbar.setLevels((lo, hi))
        key = (len(images),)
        if key != self._layout_key:
            self._layout_key = key
            self.plots["heatmap"].setXRange(-2, max(1, len(images)) * (HEAT_W + HEAT_GAP) - HEAT_GAP + 2)
            self.plots["heatmap"].setYRange(0, 1.15)

    def _draw_clip(self) -> None:
        clipped = [r for r in self.runs if r.config.clip == "norm"]
        if clipped:
            self.clip_line.setPos(math.log10(clipped[0].config.clip_value))
            self.clip_line.label.setFormat(f"clip {clipped[0].config.clip_value:g}")
        self.clip_line.setVisible(bool(clipped))

    # ------------------------------------------------------------------ hover
    def _on_mouse(self, pos: Any) -> None:
        text = self.depth_hover(pos) or self.heat_hover(pos)
        self.hover.setText(text or " ")

    def depth_hover(self, scene_pos: Any) -> str:
        plot = self.plots["depth"]
        if not plot.sceneBoundingRect().contains(scene_pos) or not self.runs:
            return ""
        p = plot.vb.mapSceneToView(scene_pos)
        return self.name_at_depth(p.x(), p.y())

    def name_at_depth(self, x: float, y: float) -> str:
        """The block nearest to (x, y) on the depth plot, over the shown runs."""
        best: tuple[float, str] | None = None
        i = round(x)
        for run in self.runs:
            keep, now = self._kept_blocks(run), run.latest_profile()
            if now is None or not 0 <= i < len(keep):
                continue
            value = now[keep[i]]
            gap = abs(value - y) if math.isfinite(value) else math.inf
            text = f"{run.name} · {run.block_ids[keep[i]]}: ‖∂L/∂W‖ = {_pow10(value)}"
            if best is None or gap < best[0]:
                best = (gap, text)
        return best[1] if best else ""

    def heat_hover(self, scene_pos: Any) -> str:
        plot = self.plots["heatmap"]
        if not plot.sceneBoundingRect().contains(scene_pos):
            return ""
        p = plot.vb.mapSceneToView(scene_pos)
        return self.name_in_heat(p.x(), p.y())

    def name_in_heat(self, x: float, y: float) -> str:
        """The run, block and step under heatmap coordinates (x, y)."""
        images = self.heat_images()
        k = int(x // (HEAT_W + HEAT_GAP))
        if not 0 <= k < len(images) or not 0 <= y < 1 or x - k * (HEAT_W + HEAT_GAP) > HEAT_W:
            return ""
        run, img = images[k]
        col = min(len(img) - 1, int((x - k * (HEAT_W + HEAT_GAP)) / HEAT_W * len(img)))
        row = min(img.shape[1] - 1, int(y * img.shape[1]))
        block = run.block_ids[self._kept_blocks(run)[row]]
        assert run.heat is not None
        step = int(run.heat.view()[col, 0])
        return f"{run.name} · {block} · step {step}: ‖∂L/∂W‖ = {_pow10(img[col, row])}"

    # ------------------------------------------------------------------ export
    def export_png(self, key: str, path: str | Path) -> None:
        """Write one plot (a key of :data:`PLOTS`) or ``"all"`` as a PNG."""
        if key == "all":
            if not self.graphics.grab().save(str(path)):
                raise OSError(f"{path}: could not write the PNG")
            return
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.plots[key])
        exporter.parameters()["width"] = 900
        exporter.export(str(path))


def _positive(values: np.ndarray) -> np.ndarray:
    """For log-scale axes: non-positive values become NaN (a gap)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def _pow10(value: float) -> str:
    return f"{10 ** value:.3g}" if math.isfinite(value) else "n/a"


__all__ = ["PLOTS", "PlotsWidget", "log10", "run_color"]
