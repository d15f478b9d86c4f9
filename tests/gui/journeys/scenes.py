"""The journeys of issue 10, each a function of a :class:`~tests.gui.journeys.driver.Journey`.

Each acts through the widgets only and checks what a person would see (the diagnostics list,
the runs list, the progress bar, the files written); ``j.shot(name)`` marks the steps the
screenshot script saves. Training uses the built-in synthetic data set (512 images of 3×8×8)
for one epoch, so a run takes seconds.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLabel, QMessageBox, QProgressBar, QTreeWidget

from tests.gui.journeys.driver import Journey

ROOT = Path(__file__).resolve().parents[3]
GRAPHS = ROOT / "graphs"
RESIDUAL_BLOCK = ("Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "Add", "ReLU", "Output")
QUICK = {"Epochs": "1", "Batch size": "64", "Image size": "0"}  # typed into the training form
SYNTHETIC = "Synthetic"
DONE = "done: 1/1 completed"
VALID = "No problems: the graph is valid."
COMPARED = sorted(f"{net} · synthetic" for net in ("plain20", "plain56", "resnet20", "resnet56"))


# ------------------------------------------------------------------ small steps
def new_ids(j: Journey, before: set[str]) -> list[str]:
    return sorted(set(j.window.document.graph.ids()) - before)  # type: ignore[attr-defined]


def diagnostics(j: Journey) -> list[str]:
    """The rows of the Diagnostics list as ``block: problem`` (the dock brought to the front)."""
    tree = j.dock("Diagnostics").findChild(QTreeWidget)
    assert tree is not None
    return [f"{row[1]}: {row[2]}" if row[1] else row[2] for row in j.rows(tree)]


def select_block(j: Journey, block_id: str) -> None:
    """Click the block's box (its middle, away from the ports)."""
    from PySide6.QtTest import QTest

    from tests.gui.journeys.driver import LEFT, NONE

    QTest.mouseClick(j.viewport, LEFT, NONE, j.block_rect(block_id).center())
    j.settle()
    assert j.window.canvas.selected_block_ids() == [block_id]  # type: ignore[attr-defined]


def inspector_field(j: Journey, block_id: str, name: str) -> Any:
    select_block(j, block_id)
    return j.field(name, j.dock("Inspector"))


def open_graph(j: Journey, path: Path) -> None:
    """File › Open…, answering the file dialog with ``path`` (and Discard when asked about
    unsaved changes: the graph built by hand is not kept)."""
    modified = j.window.document.modified  # type: ignore[attr-defined]
    j.dialogs.files.append(str(path))
    if modified:
        j.dialogs.answers.append(QMessageBox.StandardButton.Discard)
    j.menu("File", "Open…")
    assert not modified or j.dialogs.texts_of("question")[-1].startswith("Unsaved changes")
    j.wait_until(lambda: j.window.document.path == path, f"{path.name} to open")  # type: ignore[attr-defined]


def training_form(j: Journey, **typed: str) -> None:
    """Bring the Training dock forward; pick the synthetic data set; type the quick settings."""
    dock = j.dock("Training")
    data = j.field("Data set", dock)
    assert isinstance(data, QComboBox)
    j.choose(data, SYNTHETIC)
    for label, text in {**QUICK, **typed}.items():
        j.type_into(j.field(label, dock), text)


def runs_rows(j: Journey) -> list[list[str]]:
    tree = j.dock("Runs").findChild(QTreeWidget)
    assert tree is not None
    return j.rows(tree)


def wait_done(j: Journey, text: str = DONE) -> None:
    j.wait_until(lambda: j.progress().startswith(text), f"the progress bar to say {text!r}")
    bar = j.dock("Training").findChild(QProgressBar)
    assert bar is not None and bar.value() == bar.maximum()


# ------------------------------------------------------------------ a. a residual block by hand
def build_residual_block(j: Journey) -> dict[str, str]:
    """File › New; blocks from the palette; wires with port drags, the skip wire into the Add;
    a typed out_channels that breaks the Add; its fix-it from the Add's context menu."""
    doc = j.window.document  # type: ignore[attr-defined]
    j.menu("File", "New")
    assert len(doc.graph) == 0
    j.shot("a1_new_graph")
    j.double_click_palette("Input")
    (input_id,) = new_ids(j, set())
    spots = _spots(j)
    j.drag(j.block_rect(input_id).center(), spots[0])  # move it to the start of the first row
    ids = {"input": input_id}
    for name, label, at in zip(("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2", "output"),
                               RESIDUAL_BLOCK, spots[1:], strict=True):
        before = set(doc.graph.ids())
        j.drop_palette(label, at)
        (ids[name],) = new_ids(j, before)
    j.shot("a2_blocks_dropped")
    channels = inspector_field(j, ids["input"], "channels")
    j.type_into(channels, "16")
    assert doc.graph.block(ids["input"]).params["channels"] == 16
    chain = ("input", "conv1", "bn1", "relu1", "conv2", "bn2")
    for source, target in zip(chain, chain[1:], strict=False):
        j.wire(ids[source], ids[target])
    j.wire(ids["bn2"], ids["add"], 0)
    j.wire(ids["input"], ids["add"], 1)  # the skip wire
    j.wire(ids["add"], ids["relu2"])
    j.wire(ids["relu2"], ids["output"])
    assert len(list(doc.graph.wires())) == 9, [str(w) for w in doc.graph.wires()]
    assert doc.graph.inputs_of(ids["add"]) == {0: ids["bn2"], 1: ids["input"]}
    assert diagnostics(j) == [VALID]
    j.shot("a3_wired_valid")
    j.type_into(inspector_field(j, ids["conv2"], "out_channels"), "32")
    rows = diagnostics(j)
    assert [r for r in rows if r.startswith(f"{ids['add']}: Add inputs differ")], rows
    j.shot("a4_mismatched_add")
    j.context_menu(j.viewport, j.block_rect(ids["add"]).center(), "Fix:")
    assert j.chosen[-1].startswith("Fix:")
    assert doc.report().ok, [str(d) for d in doc.report().errors]
    assert diagnostics(j) == [VALID]
    j.shot("a5_fixed")
    return ids



# ------------------------------------------------------------------ b. one epoch from Start
def train_one_epoch(j: Journey) -> list[str]:
    """Open ResNet-20, set a quick run in the Training dock, Start; returns the run's row."""
    open_graph(j, GRAPHS / "resnet20.json")
    training_form(j)
    line = j.window.findChild(QLabel, "adaptation_line")
    assert line is not None
    j.wait_until(lambda: "8×8" in line.text(), "the adaptation line to name the 8×8 input")
    assert line.isVisible() and line.text().startswith("Training fits the graph to"), line.text()
    j.shot("b1_ready_to_start")
    before = len(runs_rows(j))
    j.click("Start", j.dock("Training"))
    wait_done(j)
    rows = runs_rows(j)
    assert len(rows) == before + 1
    newest = rows[0]
    assert newest[0].startswith("resnet20 · synthetic · #")
    assert newest[2] == "completed" and newest[4] == "1/1"
    from gui.training.heat import HeatLegend

    legend = j.window.findChild(HeatLegend)  # the canvas's colour bar names the run in full
    assert legend is not None and legend.isVisible() and legend.title.endswith(newest[0]), legend
    assert legend.fontMetrics().horizontalAdvance(legend.title) <= legend.width() - 16, legend.title
    points = plotted(j)
    assert points["Loss"] >= 7 and points["Accuracy"] >= 1 and points["Learning rate"] >= 1, points
    j.shot("b2_one_epoch_done")
    return newest


def plotted(j: Journey) -> dict[str, int]:
    """Points drawn in each plot of the Plots dock, by plot title."""
    import pyqtgraph as pg

    points: dict[str, int] = {}
    for view in j.dock("Plots").findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem):
                xs = [d.getData()[0] for d in item.listDataItems()]
                points[item.titleLabel.text] = sum(len(x) for x in xs if x is not None)
    return points


# ------------------------------------------------------------------ c. compare depths, twice
def compare_depths(j: Journey) -> None:
    """Compare depths from the Training dock's button (its four runs to the end), then from the
    Train menu (the same four begin; Stop ends them: the button's runs are what the plots show)."""
    training_form(j, **{"Batch size": "256"})
    before = len(runs_rows(j))
    j.click("Compare depths", j.dock("Training"))
    wait_done(j, "done: 4/4 completed")
    rows = runs_rows(j)[:4]
    assert len(runs_rows(j)) == before + 4
    assert sorted(row[0].rsplit(" · #", 1)[0] for row in rows) == COMPARED
    assert [row[2] for row in rows] == ["completed"] * 4, rows
    j.shot("c1_compare_from_button")
    j.menu(*j.menu_path("Compare Depths"))
    j.wait_until(lambda: " (1/4) · epoch 1/1 · step" in j.progress(), "the menu's compare to take a step")
    rows = runs_rows(j)
    assert len(rows) == before + 8 and sorted(r[0].rsplit(" · #", 1)[0] for r in rows[:4]) == COMPARED
    j.shot("c2_compare_from_menu")
    j.click("Stop", j.dock("Training"))
    j.wait_until(lambda: j.progress().startswith("stopped "), "the bar to say where it stopped")
    assert "done" not in j.progress(), j.progress()  # Stop between two runs is no "done: 1/1"
    rows = runs_rows(j)[:len(runs_rows(j)) - before - 4]  # the runs that never began are not listed
    assert rows and {row[2] for row in rows} <= {"stopped", "completed"}, rows


# ------------------------------------------------------------------ d. the plain twin
def plain_twin(j: Journey) -> None:
    """Train plain twin on ResNet-20: the net and its copy without shortcuts, both to the end."""
    open_graph(j, GRAPHS / "resnet20.json")
    training_form(j)
    j.click("Train plain twin", j.dock("Training"))
    wait_done(j, "done: 2/2 completed")
    first, second = runs_rows(j)[:2]
    assert {first[0].split(" · ")[0], second[0].split(" · ")[0]} == {"resnet20", "resnet20-plain"}
    assert first[2] == second[2] == "completed"
    j.shot("d1_plain_twin_done")


# ------------------------------------------------------------------ e. pause, resume, stop
def pause_resume_stop(j: Journey) -> None:
    """Pause/Resume/Stop with the buttons, then with Ctrl+Shift+P and Ctrl+Shift+T (Ctrl+T starts)."""
    training_form(j, **{"Epochs": "30", "Batch size": "8"})
    dock = j.dock("Training")
    j.click("Start", dock)
    _pause_and_resume(j, lambda: j.click("Pause", dock), lambda: j.click("Resume", dock), "e1")
    _pause_and_resume(j, lambda: j.key("Ctrl+Shift+P"), lambda: j.key("Ctrl+Shift+P"), "")
    j.click("Stop", dock)
    j.wait_until(lambda: j.progress().startswith("stopped at epoch"), "the bar to say where it stopped")
    assert runs_rows(j)[0][2] == "stopped"
    j.shot("e2_stopped")
    j.key("Ctrl+T")
    j.wait_until(lambda: j.progress().startswith("epoch"), "the second run's first step")
    j.key("Ctrl+Shift+T")
    j.wait_until(lambda: j.progress().startswith("stopped at epoch"), "the bar to say where it stopped")
    assert [row[2] for row in runs_rows(j)[:2]] == ["stopped", "stopped"]
    assert j.button("Start", dock).isEnabled() and not j.button("Pause", dock).isEnabled()


def _pause_and_resume(j: Journey, pause: Any, resume: Any, shots: str) -> None:
    """Pause: the step in flight may still finish (one more step), then the bar holds still —
    steps, speed and time left; Resume: it moves on. ``shots``: a prefix for the two screenshots
    ("" for none)."""
    j.wait_until(lambda: j.progress().startswith("epoch"), "a step on the progress bar")
    pause()
    j.wait_until(lambda: j.progress().endswith("· paused"), "the bar to say paused")
    first = _step(j.progress())
    held = _still(j, 800)  # the step that was running when Pause was pressed may still report
    assert _step(held) - first <= 1, f"more than the step in flight ran after Pause: {first} → {held!r}"
    assert j.button("Resume", j.dock("Training")).isEnabled()
    if shots:
        j.shot(f"{shots}_paused")
    resume()
    j.wait_until(lambda: "paused" not in j.progress() and j.progress() != held, "the run to go on")
    if shots:
        j.shot(f"{shots}_resumed")


def _still(j: Journey, ms: int, timeout_ms: int = 15_000) -> str:
    """The bar's text once it has not changed for ``ms`` milliseconds (steps, speed, time left);
    fails if it keeps changing for ``timeout_ms``."""
    end = time.monotonic() + timeout_ms / 1000
    seen, since = j.progress(), time.monotonic()
    while time.monotonic() - since < ms / 1000:
        assert time.monotonic() < end, f"the bar kept changing while paused: {seen!r}"
        j.settle(50)
        if j.progress() != seen:
            seen, since = j.progress(), time.monotonic()
    return seen


def _step(bar: str) -> int:
    """The number of steps done that the bar reads (``epoch 2/30 · step 7/52 · …``)."""
    epoch = int(bar.split("epoch ", 1)[1].split("/", 1)[0])
    step, per_epoch = bar.split("step ", 1)[1].split(" ", 1)[0].split("/")
    return (epoch - 1) * int(per_epoch) + int(step)


# ------------------------------------------------------------------ f. exports of trained weights
def export_trained(j: Journey, folder: Path) -> dict[str, Path]:
    """From the newest run's context menu: PyTorch code + weights, and ONNX, into ``folder``."""
    tree = j.dock("Runs").findChild(QTreeWidget)
    assert tree is not None
    newest = runs_rows(j)[0][0]
    j.click_row(tree, lambda row: row[0] == newest)
    written = {"py": folder / "trained_net.py", "onnx": folder / "trained_net.onnx"}
    for item, key in (("Export PyTorch code + weights", "py"), ("Export ONNX", "onnx")):
        j.dialogs.files.append(str(written[key]))
        j.context_menu(tree.viewport(), j.row_point(tree, lambda row: row[0] == newest), item)
        j.wait_until(written[key].exists, f"{written[key].name} to be written")
    written["pt"] = written["py"].with_suffix(".pt")
    assert written["pt"].exists()
    top = tree.topLevelItem(0)
    assert top is not None
    tip = top.toolTip(0)
    written["run"] = Path(tip.split("folder: ", 1)[1].splitlines()[0])
    written["class"] = next(m for m in j.messages if m.startswith("Wrote trained_net.py"))  # type: ignore[assignment]
    j.shot("f1_exported")
    return written


def check_exports(written: dict[str, Any]) -> None:
    """The exported module with its .pt (strict) equals the checkpoint's module; ONNX within 1e-5."""
    import numpy as np
    import onnxruntime
    import torch

    from builder.export.weights import compiled_with_weights, trained_graph

    graph = trained_graph(written["run"])
    reference = compiled_with_weights(graph, written["run"]).eval()
    (shape,) = [(b.params["channels"], b.params["height"], b.params["width"])
                for b in graph.blocks() if b.type == "input"]
    x = torch.randn(4, *shape, generator=torch.Generator().manual_seed(1))
    class_name = written["class"].split(": ", 1)[1].split("(", 1)[0]
    exported = getattr(load_module(written["py"]), class_name)()
    exported.load_state_dict(torch.load(written["pt"], weights_only=True), strict=True)
    exported.eval()
    with torch.no_grad():
        want = reference(x)
        assert torch.equal(exported(x), want)
    session = onnxruntime.InferenceSession(str(written["onnx"]), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert np.abs(got - want.numpy()).max() < 1e-5


# ------------------------------------------------------------------ g. a restart
def restart_finds_runs_and_settings(j: Journey, restart: Any) -> None:
    """Train with typed settings, quit with Ctrl+Q, start a new window: the run is listed and the
    training form shows the settings again (also for the graph file when it is opened again)."""
    open_graph(j, GRAPHS / "resnet20.json")
    training_form(j, **{"Learning rate": "0.02", "Batch size": "96"})
    j.click("Start", j.dock("Training"))
    wait_done(j)
    run = runs_rows(j)[0][0]
    old = j.window
    j.key("Ctrl+Q")
    j.wait_until(lambda: not old.isVisible(), "the window to close")
    window = restart()
    j.attach(window)
    j.settle(100)
    rows = {row[0]: row for row in runs_rows(j)}
    assert run in rows and rows[run][2] == "completed", sorted(rows)
    j.shot("g1_restarted")
    for _ in range(2):  # the last used settings, then the graph file's own
        form = j.dock("Training")
        data = j.field("Data set", form)
        assert isinstance(data, QComboBox) and data.currentText().startswith(SYNTHETIC)
        shown = {label: j.field(label, form) for label in ("Epochs", "Batch size", "Learning rate")}
        assert {label: w.text() for label, w in shown.items() if isinstance(w, QAbstractSpinBox)} == \
            {"Epochs": "1 epoch", "Batch size": "96 images", "Learning rate": "0.02"}
        open_graph(j, GRAPHS / "resnet20.json")
    j.dock("Training")
    j.shot("g2_graph_and_its_settings")

def _spots(j: Journey) -> list[QPoint]:
    """Nine places in two rows across the view, zoomed out until the blocks fit between them."""
    from gui.canvas.items import BLOCK_W

    view = j.window.canvas  # type: ignore[attr-defined]
    width, height = j.viewport.width(), j.viewport.height()
    gap = width / 5.4
    while BLOCK_W * view.zoom() > gap - 24:
        j.menu("View", "Zoom Out")
    xs = [int(gap * (k + 0.6)) for k in range(5)]
    top, bottom = int(height * 0.3), int(height * 0.62)
    return [QPoint(x, top) for x in xs[:4]] + [QPoint(x, bottom) for x in xs]


def load_module(path: Path) -> Any:
    """Import an exported .py file as a module of its own."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(path.stem, None)
    spec.loader.exec_module(module)
    return module
