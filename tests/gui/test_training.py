"""Training from the window: a tiny run to the end, Stop mid-epoch, a non-finite stop, errors,
closing during a run, the device list, bounded histories and the plain-twin action."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtWidgets import QMessageBox

from builder.graph import Graph
from gui.training.history import Series

WAIT_MS = 60_000


def chain(spec: list[tuple[str, dict]], name: str = "tiny") -> Graph:
    """Input 3×8×8 → the given blocks in a row → Output."""
    g = Graph(name)
    g.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input", pos=(0, 0))
    prev = "input"
    for k, (type_id, params) in enumerate(spec):
        block_id = f"{type_id}{k}"
        g.add_block(type_id, params, block_id=block_id, pos=(200 * (k + 1), 0))
        g.connect(prev, block_id, 0)
        prev = block_id
    g.add_block("output", block_id="output", pos=(200 * (len(spec) + 1), 0))
    g.connect(prev, "output", 0)
    return g


def tiny_cnn() -> Graph:
    return chain([("conv2d", {"out_channels": 8, "padding": 1}), ("batchnorm2d", {}), ("relu", {}),
                  ("global_avgpool", {}), ("flatten", {}), ("linear", {"out_features": 10})])


def tiny_mlp() -> Graph:
    return chain([("flatten", {}), ("linear", {"out_features": 64}), ("linear", {"out_features": 64}),
                  ("linear", {"out_features": 10})], "mlp")


def tiny_residual() -> Graph:
    g = tiny_cnn()
    g.add_block("conv2d", {"out_channels": 8, "padding": 1}, block_id="conv_b", pos=(700, 200))
    g.add_block("add", block_id="add", pos=(900, 200))
    g.disconnect("global_avgpool3", 0)
    g.connect("relu2", "conv_b", 0)
    g.connect("conv_b", "add", 0)
    g.connect("relu2", "add", 1)
    g.connect("add", "global_avgpool3", 0)
    g.name = "tinyres"
    return g


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    from builder.training import synthetic

    return synthetic(n=320, shape=(3, 8, 8), seed=0)


@pytest.fixture
def trainer_window(window, data, tmp_path):  # type: ignore[no-untyped-def]
    ctl = window.training
    ctl.dataset = data
    ctl.runs_root = tmp_path / "runs"
    ctl.panel.set_values(dataset="synthetic", epochs=2, batch_size=32, lr=0.05, device="cpu", cpu_threads=1)
    yield window
    ctl.stop_and_wait()


def _load(window, graph: Graph) -> None:  # type: ignore[no-untyped-def]
    window.document.set_graph(graph)


def test_tiny_graph_trains_to_finished_and_plots_hold_data(qtbot, trainer_window, tmp_path) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_cnn())
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
        assert ctl.running and not ctl.panel.start_button.isEnabled()
    run = ctl.runs.runs[-1]
    assert run.status == "completed", run.error
    assert [m.epoch for m in run.epochs] == [1, 2]
    assert len(run.steps) == 2 * 8  # 256 training images / batch 32, two epochs
    items = ctl.plots._items[id(run)]
    assert len(items.loss.getData()[0]) == 16
    assert len(items.acc.getData()[0]) == 2
    assert len(items.now.getData()[1]) == 2  # conv and linear
    assert items.image.image is not None and items.image.image.shape == (16, 2)
    assert ctl.plots.name_at_depth(0, items.now.getData()[1][0]).startswith(f"{run.name} · conv2d0")
    assert "linear5" in ctl.plots.name_in_heat(50, 0.9)
    assert win.canvas.graph_scene.blocks["conv2d0"].tint is not None  # gradient heat on the canvas
    assert win.canvas.graph_scene.blocks["relu2"].tint is None
    assert ctl.heat.legend.isVisible()
    assert "100.0%" in ctl.panel.progress.text() or ctl.panel.progress.value() == 1000
    assert (tmp_path / "runs").is_dir() and list((tmp_path / "runs").glob("*/metrics.csv"))
    from gui.training.history import write_metrics_csv

    write_metrics_csv(run, tmp_path / "m.csv")
    rows = list(csv.reader(open(tmp_path / "m.csv", encoding="utf-8")))
    assert rows[0][:5] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"] and len(rows) == 3
    saved = ctl.runs.open_run(run.run_dir)  # read back from the engine's run folder
    assert saved is not None and saved.status == "completed" and saved.kind == "loaded"
    assert [round(m.train_loss, 4) for m in saved.epochs] == [round(m.train_loss, 4) for m in run.epochs]
    assert len(saved.steps) == 16 and saved.block_ids == run.block_ids
    assert list(saved.latest_profile()) == pytest.approx(list(run.latest_profile()), abs=1e-4)
    for key in ("depth", "heatmap", "all"):
        ctl.plots.export_png(key, tmp_path / f"{key}.png")
        assert (tmp_path / f"{key}.png").stat().st_size > 1000


def test_stop_takes_effect_mid_epoch(qtbot, trainer_window, data) -> None:
    win, ctl = trainer_window, trainer_window.training
    from builder.training import synthetic

    ctl.dataset = synthetic(n=4000, shape=(3, 8, 8), seed=0)  # hundreds of steps an epoch: a
    _load(win, tiny_cnn())  # busy GUI thread cannot see step 3 only after the epoch has ended
    ctl.panel.set_values(epochs=50, batch_size=4)
    ctl.start()
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: len(run.steps) >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        ctl.stop()
    assert run.status == "stopped"
    assert run.epochs == [] and 3 <= len(run.steps) < 500  # stopped inside the first epoch
    assert ctl.panel.start_button.isEnabled()


def test_pause_holds_the_run_until_resumed(qtbot, trainer_window) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_cnn())
    ctl.panel.set_values(epochs=50, batch_size=4)
    ctl.start()
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: len(run.steps) >= 2, timeout=WAIT_MS)
    ctl.toggle_pause()
    assert ctl.panel.pause_button.text() == "Resume"
    qtbot.wait(300)
    held = run.steps.seen
    qtbot.wait(400)
    assert run.steps.seen == held
    ctl.toggle_pause()
    qtbot.waitUntil(lambda: run.steps.seen > held, timeout=WAIT_MS)
    with qtbot.waitSignal(ctl.all_finished, timeout=5000):
        ctl.stop()


def test_huge_learning_rate_ends_with_the_non_finite_message(qtbot, trainer_window, boxes) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_mlp())
    ctl.panel.set_values(lr=10.0, weight_decay=0.0, epochs=3)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        ctl.start()
    run = ctl.runs.runs[-1]
    assert run.status == "non_finite"
    assert run.bad_block in ("linear1", "linear2", "linear3")
    (kind, title, text), = [c for c in boxes.calls if c[0] == "warning"]
    assert "non-finite" in text and f"block {run.bad_block}" in text and "clipping" in text
    assert "clipping" in ctl.panel.error.text()
    assert len(run.steps) >= 1  # the data so far is kept


def test_exception_in_worker_is_a_message_and_the_window_survives(qtbot, trainer_window, boxes,
                                                                  monkeypatch) -> None:
    from builder.training import trainer

    def boom(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(trainer.Trainer, "run", boom)
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_cnn())
    listed = list(ctl.runs.runs)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        ctl.start()
    assert [c[0] for c in boxes.calls] == ["critical"]
    assert "RuntimeError: simulated crash" in boxes.calls[0][2]
    assert ctl.runs.runs == listed  # it never made a step: a message, not a run
    assert not ctl.running and win.isVisible() and ctl.panel.start_button.isEnabled()


def test_a_folder_that_is_not_a_run_is_refused_with_a_message(trainer_window, boxes, tmp_path) -> None:
    assert trainer_window.training.runs.open_run(str(tmp_path)) is None
    (kind, _title, text), = boxes.calls
    assert kind == "warning" and "config.json" in text


def test_bad_settings_are_shown_inline(trainer_window) -> None:
    ctl = trainer_window.training
    ctl.panel.set_values(dataset="folder", data_dir="")
    assert not ctl.start()
    assert "Folder: an image-folder data set needs a folder" in ctl.panel.error.text()
    assert not ctl.running


def test_a_data_set_not_on_disk_is_offered_for_download_when_start_is_clicked(
        qtbot, trainer_window, boxes, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    monkeypatch.setenv("SKIPWIRE_DATA", str(tmp_path / "empty-data"))
    ctl = trainer_window.training
    ctl.dataset = None  # the form's data set: MNIST, with no folder and no fetched copy
    ctl.panel.set_values(dataset="mnist", data_dir="")
    assert ctl.panel.start_button.isEnabled()  # no folder is no longer an error: it can be fetched
    boxes.answer = QMessageBox.StandardButton.No
    qtbot.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
    (kind, _title, text), = boxes.calls
    assert kind == "question" and "is not on this computer yet" in text and "Download it now" in text
    assert not ctl.running and ctl.runs.runs == []  # No: nothing started, nothing listed
    assert "mnist is not on this computer" in ctl.panel.error.text()
    assert not (tmp_path / "empty-data" / "mnist").exists()  # and nothing downloaded


def test_missing_data_files_are_shown_inline_without_a_crash_box(qtbot, trainer_window, boxes,
                                                                  tmp_path) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_cnn())
    ctl.dataset = None  # the form's data set: MNIST from an empty folder
    ctl.panel.set_values(dataset="mnist", data_dir=str(tmp_path))
    listed = list(ctl.runs.runs)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
    assert str(tmp_path) in ctl.panel.error.text()
    assert ctl.runs.runs == listed  # a failed start is not listed as a run
    assert "critical" not in boxes.kinds()


def test_closing_during_a_run_asks_then_stops(qtbot, trainer_window, boxes) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_cnn())
    win.document.undo_stack.setClean()
    ctl.panel.set_values(epochs=50, batch_size=4)
    ctl.start()
    qtbot.waitUntil(lambda: len(ctl.runs.runs[-1].steps) >= 1, timeout=WAIT_MS)
    boxes.answer = QMessageBox.StandardButton.No
    assert not win.close()
    assert ctl.running and boxes.kinds() == ["question"]
    boxes.answer = QMessageBox.StandardButton.Yes
    assert win.close()
    assert not ctl.running and ctl.runs.runs[-1].status == "stopped"


def test_plain_twin_trains_both_and_overlays_them(qtbot, trainer_window) -> None:
    win, ctl = trainer_window, trainer_window.training
    _load(win, tiny_residual())
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start_twin()
    a, b = ctl.runs.runs[-2:]
    assert (a.name, b.name) == ("tinyres · synthetic · #1", "tinyres-plain · synthetic · #1")
    assert a.status == b.status == "completed"
    assert ctl.plots.runs == [a, b]
    assert len(a.block_ids) == len(b.block_ids)  # same layers
    assert a.config == b.config


def test_twin_of_a_plain_graph_is_refused(trainer_window) -> None:
    _load(trainer_window, tiny_cnn())
    assert not trainer_window.training.start_twin()
    assert "no residual Add" in trainer_window.training.panel.error.text()


def test_device_list_always_contains_the_cpu(trainer_window) -> None:
    from gui.training.worker import devices

    assert devices()[0] == ("cpu", "CPU")
    combo = trainer_window.training.panel.device
    assert combo.findData("cpu") == 0
    combo.refresh()
    assert combo.findData("cpu") == 0 and combo.probed
    assert combo.findData("cpu*2") > 0  # the CPU in two processes (torchrun)
    precision = trainer_window.training.panel.widget("precision")
    assert precision.isEnabled()  # bf16 is offered on the CPU too; fp16 stays CUDA only
    trainer_window.training.panel.form.refresh()
    assert precision.itemText(precision.findData("auto")).startswith("Auto → ")  # what auto means here


def test_histories_stay_bounded_over_5000_steps() -> None:
    s = Series(3, 512)
    for i in range(5000):
        s.append((i, 0.0, 0.0))
    rows = s.view()
    assert len(rows) <= 512 and rows[0, 0] == 0 and rows[-1, 0] >= 5000 - s.stride
    assert (rows[1:, 0] - rows[:-1, 0] == s.stride).all()
