"""The plots and the health warnings in the window: a diverging net through the real Start button,
non-finite values on the axes, the layout at a short dock, and PNG export through the real actions."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from builder.training import health
from builder.training.config import TrainConfig
from gui.training.axes import LABEL_PX, log_label, log_ticks
from gui.training.history import RunData
from gui.training.runs import STATUS_COLORS
from tests.gui.test_training import WAIT_MS, tiny_cnn, tiny_mlp


@pytest.fixture
def errors(monkeypatch):  # type: ignore[no-untyped-def]
    """Exceptions that escape a slot (sys.excepthook) during the test."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: seen.append(exc))
    return seen


@pytest.fixture
def trainer_window(window, tmp_path):  # type: ignore[no-untyped-def]
    from builder.training import synthetic

    ctl = window.training
    ctl.dataset = synthetic(n=320, shape=(3, 8, 8), seed=0)
    ctl.runs_root = tmp_path / "runs"
    ctl.panel.set_values(dataset="synthetic", epochs=3, batch_size=32, device="cpu", cpu_threads=1,
                         weight_decay=0.0)
    yield window
    ctl.stop_and_wait()


def _train(qtbot, win, graph, **settings) -> RunData:  # type: ignore[no-untyped-def]
    ctl = win.training
    win.document.set_graph(graph)
    ctl.panel.set_values(**settings)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        QTest.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
    ctl.tick()
    return ctl.runs.runs[-1]


def _row(ctl, run: RunData):  # type: ignore[no-untyped-def]
    return ctl.runs._rows[id(run)]


def test_a_diverging_net_stops_and_says_so_everywhere(qtbot, trainer_window, boxes, errors) -> None:
    win, ctl = trainer_window, trainer_window.training
    run = _train(qtbot, win, tiny_mlp(), optimizer="adam", lr=10.0)
    assert run.status == "diverged" and errors == []
    (finding,) = run.health
    assert finding.kind == "loss_diverged" and finding.stops
    # the window: a message box, the advice under the progress bar, the bar's summary
    (kind, title, text), = [c for c in boxes.calls if c[0] == "warning"]
    assert title == "Training stopped: the loss diverged" and "Training diverged: the loss climbed to" in text
    assert "Training diverged" in ctl.panel.status.text() and "learning rate" in ctl.panel.status.text()
    assert ctl.panel.progress.format().startswith("diverged at epoch ")
    # the Runs list: the status in red, the advice in the tooltip
    row = _row(ctl, run)
    assert row.text(2) == "diverged"
    assert row.foreground(2).color() == QColor(STATUS_COLORS["diverged"])
    assert "Training diverged" in row.toolTip(0)
    # the plots: a marker at the step where it was seen, a ⚠ in the legend
    markers = ctl.plots._items[id(run)].markers
    assert len(markers) == 3 and all(line.value() == pytest.approx(finding.x) for _p, line in markers)
    assert 1 < finding.x < 2 and "⚠" in ctl.plots.legend.text()
    assert len(run.steps) == finding.step + 1  # the data so far is kept
    saved = ctl.runs.open_run(run.run_dir)  # read back: the same status, advice and epoch axis
    assert saved is not None and saved.status == "diverged" and saved.health == run.health
    assert saved.error == run.error
    assert list(saved.steps.view()[:, 0]) == pytest.approx(list(run.steps.view()[:, 0]))


def test_a_stall_at_chance_completes_with_a_warning(qtbot, trainer_window, boxes, errors) -> None:
    win, ctl = trainer_window, trainer_window.training
    run = _train(qtbot, win, tiny_cnn(), optimizer="sgd", lr=10.0)
    assert run.status == "completed" and errors == [] and boxes.kinds() == []
    assert [f.kind for f in run.health] == ["chance"] and run.warning == run.error
    assert "Not learning" in ctl.panel.status.text()
    assert ctl.panel.progress.format() == "done: 1/1 completed · 1 with warnings"
    row = _row(ctl, run)
    assert row.text(2) == "completed ⚠"
    assert row.foreground(2).color() == QColor(STATUS_COLORS["warning"])
    saved = ctl.runs.open_run(run.run_dir)  # the warning survives a restart (health.json)
    assert saved is not None and saved.status == "completed" and saved.warning == run.warning


def test_a_stall_is_told_while_the_run_goes_on(qtbot, trainer_window, errors) -> None:
    from builder.training import synthetic

    win, ctl = trainer_window, trainer_window.training
    ctl.dataset = synthetic(n=4000, shape=(3, 8, 8), seed=0)  # 100 steps an epoch: the run is long
    win.document.set_graph(tiny_cnn())
    ctl.panel.set_values(optimizer="sgd", lr=10.0, epochs=40)
    QTest.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: bool(run.health), timeout=WAIT_MS)
    assert ctl.running and len(run.epochs) < 40  # told mid-run, not at the end
    assert [f.kind for f in run.health] == ["chance"] and "Not learning" in ctl.panel.status.text()
    ctl.tick()
    assert "⚠" in ctl.plots.legend.text()
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        QTest.mouseClick(ctl.panel.stop_button, Qt.MouseButton.LeftButton)
    assert run.status == "stopped" and [f.kind for f in run.health] == ["chance"] and errors == []


def test_a_healthy_run_has_no_warning(qtbot, trainer_window) -> None:
    win, ctl = trainer_window, trainer_window.training
    run = _train(qtbot, win, tiny_mlp(), optimizer="sgd", lr=0.05)
    assert run.status == "completed" and run.health == [] and run.error == ""
    assert ctl.panel.progress.format() == "done: 1/1 completed"
    assert _row(ctl, run).text(2) == "completed" and "⚠" not in ctl.plots.legend.text()


# ---------------------------------------------------------------- axes

def non_finite_run() -> RunData:
    """Loss from 2.3 up to 10³ over half an epoch, then inf and NaN; gradient norm to inf."""
    run = RunData("blowup", "plain56", TrainConfig(), color="#d62728")
    losses = [2.3, 5.0, 40.0, 300.0, 1000.0, math.inf, math.nan]
    for k, loss in enumerate(losses):
        run.add_step(SimpleNamespace(epoch=1, step=k, batch=k + 1, batches=12, loss=loss, accuracy=0.1,
                                     lr=0.1, images_per_s=100.0, grad_norm=10.0 ** k if k < 5 else math.inf))
    run.add_epoch(SimpleNamespace(epoch=1, epochs=3, train_loss=math.nan, train_acc=0.1, val_loss=math.inf,
                                  val_acc=math.nan))
    run.status = "non_finite"
    run.health = [health.non_finite(1, 6, 12, 5, "loss became non-finite at step 5")]
    return run


def test_non_finite_values_leave_the_axes_in_human_units(qtbot) -> None:
    from gui.training.plots import PlotsWidget

    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.resize(1600, 300)
    plots.show()
    run = non_finite_run()
    plots.show_runs([run])
    qtbot.waitUntil(lambda: plots.rows == 1)
    for key in ("loss", "grad_norm"):
        plots.plots[key].vb.autoRange()
    (lo, hi) = plots.plots["loss"].vb.viewRange()[1]
    assert 0 < lo < math.log10(2.3) and 3 < hi < 3.4  # 2.3 … 10³ (and padding): the finite values
    (x0, x1) = plots.plots["loss"].vb.viewRange()[0]
    assert -0.05 < x0 < 1 / 12 and 7 / 12 < x1 < 0.7  # steps 1…7 of 12
    (g0, g1) = plots.plots["grad_norm"].vb.viewRange()[1]
    assert -0.5 < g0 < 0 and 4 < g1 < 4.5  # 1 … 10⁴ (and padding), the inf left out
    for key in ("loss", "accuracy", "grad_norm", "lr"):
        for side in ("left", "bottom"):
            axis = plots.plots[key].getAxis(side)
            assert "×" not in axis.labelString() and axis.autoSIPrefixScale == 1.0, (key, side)
    assert plots.plots["loss"].getAxis("bottom").labelText == "epoch"
    axis = plots.plots["loss"].getAxis("left")
    levels = axis.tickValues(lo, hi, 150)
    labels = [s for s in axis.tickStrings(levels[0][1], 1.0, 1.0) if s]
    assert labels == ["10", "100", "1000"]
    bottom = plots.plots["loss"].getAxis("bottom")
    strings = bottom.tickStrings(bottom.tickValues(x0, x1, 250)[0][1], 1.0, 0.1)
    assert strings and all(float(s) < 1 for s in strings)  # 0.1, 0.2, … not "200 (×0.001)"
    markers = plots._items[id(run)].markers
    assert markers and markers[0][1].value() == pytest.approx(0.5)  # the step that went non-finite


@pytest.mark.parametrize(("lo", "hi"), [(-12, 2), (-20, 0), (0.3, 0.5), (-1, 3), (12, 12.2), (-3.2, -2.9)])
@pytest.mark.parametrize("pixels", [60, 120, 400])
def test_log_tick_labels_never_overlap(lo: float, hi: float, pixels: int) -> None:
    labelled, minor = log_ticks(lo, hi, pixels // LABEL_PX["left"])
    assert 1 <= len(labelled) <= max(2, pixels // LABEL_PX["left"])
    assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in labelled + minor)
    gaps = np.diff(sorted(labelled)) / (hi - lo) * pixels
    assert len(labelled) == 1 or gaps.min() >= LABEL_PX["left"] or len(labelled) == 2
    assert not set(labelled) & set(minor)


def test_log_labels_read_as_powers_or_plain_numbers() -> None:
    assert [log_label(v, plain=False) for v in (-3, -2, 12, 12 + math.log10(2))] == \
        ["10⁻³", "10⁻²", "10¹²", "2·10¹²"]
    assert [log_label(v, plain=True) for v in (-2, math.log10(0.5), 0, 3)] == ["0.01", "0.5", "1", "1000"]


# ---------------------------------------------------------------- layout

@pytest.mark.parametrize(("size", "rows"), [((1600, 260), 1), ((1276, 230), 1), ((1600, 700), 2),
                                            ((900, 260), 2)])
def test_the_plots_fit_the_dock(qtbot, size: tuple[int, int], rows: int) -> None:
    from gui.training.plots import PLOTS, PlotsWidget

    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.resize(*size)
    plots.show()
    plots.show_runs([non_finite_run()])
    qtbot.waitUntil(lambda: plots.rows == rows)
    qtbot.wait(50)
    rects = [plots.plots[k].sceneBoundingRect() for k in PLOTS]
    for i, a in enumerate(rects):
        assert a.height() > 100 and a.width() > 150, (PLOTS[i], a)
        assert not any(a.intersected(b).width() > 1 and a.intersected(b).height() > 1 for b in rects[i + 1:])
    assert len({round(r.top()) for r in rects}) == rows
    view = plots.graphics.mapToScene(plots.graphics.viewport().rect()).boundingRect()
    for key in PLOTS:  # every plot inside the view, every title inside its plot: nothing clipped
        plot = plots.plots[key].sceneBoundingRect()
        assert view.contains(plot), key
        title = plots.plots[key].titleLabel.item.sceneBoundingRect().adjusted(0, 2, 0, -2)  # text margins
        assert plot.left() <= title.left() and title.right() <= plot.right() and view.contains(title), key


def test_the_legend_lists_every_shown_run_outside_the_plots(qtbot) -> None:
    from gui.training.plots import PlotsWidget

    plots = PlotsWidget()
    qtbot.addWidget(plots)
    runs = [non_finite_run() for _ in range(4)]
    for k, run in enumerate(runs):
        run.name, run.color = f"net-{k}", ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"][k]
    plots.show_runs(runs)
    text = plots.legend.text()
    assert all(f"net-{k}" in text and runs[k].color in text for k in range(4))
    assert not plots.graphics.isAncestorOf(plots.legend)  # a row above the plots, never over the data
    plots.show_runs(runs[:1])
    assert "net-0" in plots.legend.text() and "net-1" not in plots.legend.text()


# ---------------------------------------------------------------- export

def _answer(monkeypatch, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def dialog(_parent, title, *_args, **_kwargs):  # type: ignore[no-untyped-def]
        asked.append(title)
        return str(path), "PNG images (*.png)"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    return asked


def _menu_action(window, menu_text: str, action_text: str):  # type: ignore[no-untyped-def]
    (menu,) = [a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_text]
    (action,) = [a for a in menu.actions() if a.text().replace("&", "") == action_text]
    return action


def test_each_plot_and_the_whole_set_save_as_png(qtbot, window, monkeypatch, tmp_path, boxes, errors) -> None:
    ctl = window.training
    run = non_finite_run()
    ctl.runs.add_runs([run])
    plots = ctl.plots
    # one plot from its right-click menu
    asked = _answer(monkeypatch, tmp_path / "depth.png")
    (action,) = [a for a in plots.plots["depth"].vb.menu.actions() if a.text() == "Save This Plot as PNG…"]
    action.trigger()
    one = QImage(str(tmp_path / "depth.png"))
    assert asked == ["Save the Gradient by depth plot as PNG"]
    assert 400 < one.width() < 900 and 400 < one.height() < 800
    assert _has_color(one, QColor(run.color), rows=range(0, 40))  # the legend names the run
    # the whole set from the Train menu, and from the plots' Save PNG button
    _answer(monkeypatch, tmp_path / "all.png")
    _menu_action(window, "Train", "Export All Plots as One PNG…").trigger()
    whole = QImage(str(tmp_path / "all.png"))
    assert whole.width() >= 1700 and whole.height() >= 1000
    _answer(monkeypatch, tmp_path / "all2.png")
    plots.save_actions["all"].trigger()
    assert QImage(str(tmp_path / "all2.png")).size() == whole.size()
    # a folder that does not exist: a message naming the path, nothing raised
    _answer(monkeypatch, tmp_path / "missing" / "loss.png")
    plots.save_actions["loss"].trigger()
    (kind, _title, text), = [c for c in boxes.calls if c[0] == "warning"]
    assert str(tmp_path / "missing" / "loss.png") in text and "could not write" in text
    assert errors == []


def _has_color(image: QImage, color: QColor, rows: range) -> bool:
    return any(image.pixelColor(x, y) == color for y in rows for x in range(0, min(image.width(), 200)))
