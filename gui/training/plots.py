"""Live training plots (pyqtgraph): loss, accuracy, learning rate, gradient norm, gradient
magnitude by depth and a block × step heatmap, for one run or several overlaid.

Curves are created once per shown run and updated with ``setData`` from :meth:`PlotsWidget.refresh`
(the controller calls it on a ≤ 10 Hz timer), and only for runs whose data changed. The depth
plot draws, per run, the latest profile bold, earlier ones fading and the step-0 profile dotted
(x = parameterised block in topological order, y = log10 of its weight-gradient norm). The
heatmap puts the shown runs side by side (x = training steps, y = depth from the input at the
bottom to the output at the top, colour = log10 norm on one shared scale): vanishing gradients
are a dark band along the bottom. Hovering the depth plot or the heatmap names the block.

Legibility: the six plots sit in one row while the area is shorter than two rows of
:data:`ROW_MIN_PX` (a bottom dock of about 300 px) and in two rows of three when taller; they
need about :data:`ROW_MIN_PX` px of height (a dock of ≈ 240 px with its title and tool row).
Axes keep human units and ignore non-finite values (:mod:`gui.training.axes`); the legend is
one row above the plots, outside the data, and lists every shown run. Health findings (a
diverged loss, a stall at chance, a gradient blow-up, the step that went non-finite) are
vertical markers at the epoch where they were seen, with the advice as their tooltip. Each
plot saves as PNG from its right-click menu or the Save PNG button; the whole set saves as one
PNG (:mod:`gui.training.plot_export`).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.training import plot_export
from gui.training.axes import axes, log_axis_ticks
from gui.training.history import PLOTS, TITLES, RunData, log10
from gui.training.plot_export import run_color

RECENT = 5  # fading earlier profiles per run
HEAT_W, HEAT_GAP = 100.0, 12.0  # each run's heatmap panel width and the gap between panels
WEIGHTED = ("conv2d", "linear")
ROW_MIN_PX = 190  # a row of plots stays legible down to this height
MIN_PLOT_W = 170  # narrower than this in one row, the plots wrap into two rows
SHORT = {"loss": "Loss", "accuracy": "Accuracy", "lr": "Learning rate", "grad_norm": "Gradient norm",
         "depth": "Gradient by depth", "heatmap": "‖∂L/∂W‖: block × step"}
NAMES = {**SHORT, "heatmap": "Gradient heatmap"}  # in menus and dialogs
LABELS = {"loss": ("epoch", "loss"), "accuracy": ("epoch", "accuracy"), "lr": ("epoch", "lr"),
          "grad_norm": ("epoch", "‖g‖ (before clipping)"), "depth": ("block (input → output)", "‖∂L/∂W‖"),
          "heatmap": ("steps, per run", "depth")}
MARKED = ("loss", "accuracy", "grad_norm")  # plots on the epoch axis that show health markers
STOP_COLOR, WARN_COLOR = "#c62828", "#e65100"
SAVE_PLOT = "Save This Plot as PNG…"


class _RunItems:
    """The plot items of one shown run (created once)."""

    def __init__(self, widget: PlotsWidget, run: RunData, color: QColor) -> None:
        self.run, self.drawn, self.marked = run, -1, -1
        self.owned: list[tuple[pg.PlotItem, Any]] = []
        self.markers: list[tuple[pg.PlotItem, Any]] = []
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
        self.acc_raw = self._plot(widget, "accuracy", pen=pg.mkPen(faint, width=1))  # per step
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
        widget.plots["heatmap"].addItem(self.image)
        self.owned.append((widget.plots["heatmap"], self.image))

    def _plot(self, widget: PlotsWidget, key: str, **kwargs: Any) -> pg.PlotDataItem:
        plot = widget.plots[key]
        item = plot.plot(**kwargs)
        self.owned.append((plot, item))
        return item

    def mark(self, widget: PlotsWidget) -> None:
        """Vertical markers at the epochs where the run's health findings were seen."""
        for plot, item in self.markers:
            plot.removeItem(item)
        self.markers.clear()
        for finding in self.run.health:
            color = STOP_COLOR if finding.stops else WARN_COLOR
            for key in MARKED:
                label = finding.title if key != "grad_norm" else None
                options = {"position": 0.92, "color": color, "fill": (255, 255, 255, 200),
                           "anchors": [(0, 0), (1, 0)]}  # the text turns toward the view's centre
                line = pg.InfiniteLine(pos=finding.x, angle=90, label=label, labelOpts=options,
                                       pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine))
                line.setToolTip(f"{self.run.name}: {finding.message}")
                widget.plots[key].addItem(line)  # in the x range even past the last drawn step
                self.markers.append((widget.plots[key], line))
        self.marked = len(self.run.health)

    def remove(self) -> None:
        for plot, item in self.owned + self.markers:
            plot.removeItem(item)
        self.owned.clear()
        self.markers.clear()


class PlotsWidget(QWidget):
    """Six live plots over the runs given to :meth:`show_runs`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunData] = []
        self._items: dict[int, _RunItems] = {}
        self._layout_key: tuple[Any, ...] = ()
        self.rows = 2
        self.folder = ""  # where the Save dialogs start
        self.log_loss = QCheckBox("log loss")
        self.log_loss.setChecked(True)
        self.weights_only = QCheckBox("conv/linear only")
        self.weights_only.setToolTip("Depth plot and heatmap: leave out BatchNorm scales")
        self.weights_only.setChecked(True)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.hover = QLabel(" ")
        self.hover.setMinimumWidth(240)
        self.save_button = QToolButton()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.graphics.setMinimumHeight(ROW_MIN_PX - 30)
        self.plots: dict[str, pg.PlotItem] = {}
        self._build()
        self._build_bar()
        self.log_loss.toggled.connect(lambda on: self.plots["loss"].setLogMode(False, on))
        self.weights_only.toggled.connect(lambda _on: self._invalidate())
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse)
        self.graphics.installEventFilter(self)
        self._update_legend()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        for i, key in enumerate(PLOTS):
            plot = pg.PlotItem(axisItems=axes(percent=key == "accuracy"))
            self.graphics.addItem(plot, row=i // 3, col=i % 3)
            plot.setTitle(SHORT[key], size="9pt", color="#222")
            plot.layout.setRowFixedHeight(0, 18)
            plot.titleLabel.setMaximumHeight(18)
            plot.titleLabel.setToolTip(TITLES[key])
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", LABELS[key][0], **{"font-size": "8pt"})
            plot.setLabel("left", LABELS[key][1], **{"font-size": "8pt"})
            plot.setClipToView(key in ("loss", "lr", "grad_norm"))
            self._add_save_action(plot, key)
            self.plots[key] = plot
        self.plots["loss"].setLogMode(False, True)
        self.plots["grad_norm"].setLogMode(False, True)
        self.plots["depth"].getAxis("left").setLogMode(True)  # the profiles are log10 already: ticks 10ⁿ
        self.plots["accuracy"].setYRange(0, 1)
        self.clip_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#555", width=1.5, style=Qt.PenStyle.DashLine),
                                         label="clip {value:.3g}", labelOpts={"position": 0.9})
        self.plots["grad_norm"].addItem(self.clip_line)
        self.clip_line.hide()
        heat = self.plots["heatmap"]
        heat.getAxis("bottom").setTicks([[]])
        heat.getAxis("left").setTicks([[(0.04, "in"), (0.96, "out")]])
        heat.getAxis("left").setStyle(hideOverlappingLabels=False)  # the labels sit at the very ends
        heat.setYRange(0, 1, padding=0)
        self.colormap = pg.colormap.get("inferno")
        self.colorbar = pg.ColorBarItem(colorMap=self.colormap, values=(-4, 0), interactive=False,
                                        width=10)
        bar_axis = self.colorbar.axis
        bar_axis.enableAutoSIPrefix(False)
        bar_axis.setTextPen("#333")  # the colours are log10 norms: ticks read 10ⁿ (set in _draw_heat)
        self.graphics.addItem(self.colorbar, row=1, col=3)

    def _build_bar(self) -> None:
        self.save_button.setText("Save PNG")
        self.save_button.setToolTip("Save one plot, or all of them as one image, as PNG")
        self.save_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.save_button)
        self.save_actions: dict[str, QAction] = {}
        for key, text in (("all", "All Plots as One PNG…"), *((k, f"{NAMES[k]}…") for k in PLOTS)):
            action = menu.addAction(text)
            action.triggered.connect(lambda _c=False, k=key: self.save_dialog(k))
            self.save_actions[key] = action
            if key == "all":
                menu.addSeparator()
        self.save_button.setMenu(menu)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        for w in (self.log_loss, self.weights_only):
            bar.addWidget(w)
        bar.addWidget(self.legend, 1)
        bar.addWidget(self.hover)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)

    def _add_save_action(self, plot: pg.PlotItem, key: str) -> None:
        menu = plot.vb.menu
        menu.addSeparator()
        action = menu.addAction(SAVE_PLOT)
        action.triggered.connect(lambda _c=False, k=key: self.save_dialog(k))

    # ------------------------------------------------------------------ layout
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            self.fit_layout()
        return False

    def fit_layout(self) -> None:
        """One row of six when the area is short, two rows of three when it is tall or narrow."""
        size = self.graphics.size()
        tall = size.height() >= 2 * ROW_MIN_PX
        narrow = size.width() / 6 < MIN_PLOT_W
        self.arrange(2 if tall or narrow else 1)
        self._colorbar_ticks()

    def arrange(self, rows: int) -> None:
        """Place the plots in ``rows`` rows (1 or 2), the colour bar after the heatmap."""
        if rows == self.rows:
            return
        grid = self.graphics.ci.layout
        items = [self.plots[k] for k in PLOTS] + [self.colorbar]
        for item in items:
            grid.removeItem(item)
        cols = len(PLOTS) // rows
        for i, key in enumerate(PLOTS):
            grid.addItem(self.plots[key], i // cols, i % cols)
        grid.addItem(self.colorbar, rows - 1, cols)
        for c in range(len(PLOTS) + 1):
            grid.setColumnStretchFactor(c, 1 if c < cols else 0)
        for r in range(2):
            grid.setRowStretchFactor(r, 1 if r < rows else 0)
        self.rows = rows
        self._layout_key = ()  # heatmap labels depend on the panel width
        self._draw_heat()

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
        self._update_legend()
        self._invalidate()

    def _update_legend(self) -> None:
        self.legend.setText(legend_html(self.runs))
        self.legend.setToolTip("\n".join(f"{r.name}: {r.describe()}" for r in self.runs))

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
            if items.marked != len(run.health):
                items.mark(self)
                self._update_legend()
        if changed:
            self._draw_heat()
            self._draw_clip()

    # ------------------------------------------------------------------ drawing
    def _draw(self, it: _RunItems) -> None:
        run = it.run
        s = run.steps.view()
        if len(s):
            _set(it.loss_raw, s[:, 0], positive(s[:, 1]))
            _set(it.loss, s[:, 0], positive(s[:, 2]))
            _set(it.acc_raw, s[:, 0], finite(s[:, 3]))
            _set(it.lr, s[:, 0], finite(s[:, 4]))
            _set(it.gnorm, s[:, 0], positive(s[:, 5]))
        if run.epochs:
            e = np.array([(m.epoch, m.train_loss, m.val_loss, m.train_acc, m.val_acc) for m in run.epochs],
                         dtype=float)
            _set(it.val_loss, e[:, 0], positive(e[:, 2]))
            _set(it.acc, e[:, 0], finite(e[:, 3]))
            _set(it.val_acc, e[:, 0], finite(e[:, 4]))
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
        finite_values = np.concatenate([i[np.isfinite(i)] for _r, i in images]) if images else np.array([])
        lo, hi = (np.percentile(finite_values, 1), np.percentile(finite_values, 99.5)) \
            if finite_values.size else (-4.0, 0.0)
        hi = max(hi, lo + 0.5)
        for run in self.runs:
            self._items[id(run)].image.setVisible(False)
        for k, (run, img) in enumerate(images):
            it = self._items[id(run)]
            filled = np.where(np.isfinite(img), img, lo)
            it.image.setImage(filled, levels=(lo, hi), lut=self.colormap.getLookupTable(nPts=256))
            it.image.setRect(QRectF(k * (HEAT_W + HEAT_GAP), 0.0, HEAT_W, 1.0))
            it.image.setVisible(True)
        self.colorbar.setLevels((lo, hi))
        self._colorbar_ticks()
        heat = self.plots["heatmap"]
        chars = max(4, int(heat.vb.width() / max(1, len(images)) / 7))
        ticks = [(k * (HEAT_W + HEAT_GAP) + HEAT_W / 2, _elide(run.name, chars))
                 for k, (run, _i) in enumerate(images)]
        heat.getAxis("bottom").setTicks([ticks])
        key = (len(images),)
        if key != self._layout_key:
            self._layout_key = key
            heat.setXRange(-2, max(1, len(images)) * (HEAT_W + HEAT_GAP) - HEAT_GAP + 2, padding=0)
            heat.setYRange(0, 1, padding=0)

    def _colorbar_ticks(self) -> None:
        lo, hi = self.colorbar.levels()
        pixels = max(60.0, self.plots["heatmap"].vb.height())
        self.colorbar.axis.setTicks([log_axis_ticks(lo, hi, pixels)])

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
        """Write one plot (a key of :data:`PLOTS`) or ``"all"`` as a PNG, with the legend."""
        plot_export.save(self, key, path)

    def save_dialog(self, key: str) -> None:
        """Ask where to save plot ``key`` (or ``"all"``) and write it; a message names a failure."""
        name = "plots" if key == "all" else key
        start = str(Path(self.folder) / f"{name}.png") if self.folder else f"{name}.png"
        title = "Save all plots as one PNG" if key == "all" else f"Save the {NAMES[key]} plot as PNG"
        path, _ = QFileDialog.getSaveFileName(self, title, start, "PNG images (*.png)")
        if not path:
            return
        try:
            self.export_png(key, path)
        except OSError as exc:
            QMessageBox.warning(self, "Save PNG", f"{path}: {exc.strerror or exc}")


def legend_html(runs: list[RunData]) -> str:
    """The legend row: every shown run in its colour, then the line styles."""
    if not runs:
        return "<span style='color:#777'>no run selected</span>"
    flag = f" <span style='color:{WARN_COLOR}'>⚠</span>"
    parts = [f"<span style='color:{run_color(r, i).name()}'>━━</span>&nbsp;{html.escape(r.name)}"
             + (flag if r.health else "") for i, r in enumerate(runs)]
    key = "<span style='color:#555'>— train · ┄ val · ⋯ step 0</span>"
    return "&nbsp;&nbsp; ".join(parts) + "&nbsp;&nbsp;&nbsp; " + key


def finite(values: np.ndarray) -> np.ndarray:
    """Non-finite values become NaN (a gap that the axes ignore)."""
    out = np.asarray(values, dtype=float).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def positive(values: np.ndarray) -> np.ndarray:
    """For log-scale axes: non-finite and non-positive values become NaN (a gap)."""
    out = finite(values)
    out[~(out > 0)] = np.nan
    return out


def _set(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """``setData`` with gaps at NaN; nothing at all when no value is finite."""
    if np.isfinite(y).any():
        item.setData(x, y, connect="finite")
    else:
        item.setData([], [])


def _elide(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:max(1, chars - 1)] + "…"


def _pow10(value: float) -> str:
    return f"{10 ** value:.3g}" if math.isfinite(value) else "n/a"


__all__ = ["PLOTS", "PlotsWidget", "log10", "run_color"]
