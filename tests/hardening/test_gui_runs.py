"""Long runs and worker failures in the training window (offscreen).

* 1,024 training steps with live plots (``bench/soak_gui.py`` runs 5,000): resident memory is
  measured before the run, after the first 300 steps (torch, pyqtgraph and the plots are loaded
  by then) and at the end; growth after warm-up is bounded and the plotted histories stay capped.
* An exception inside the trainer mid-run, a data folder that is gone and a device that is
  not available each end the run with a message; the window stays usable (the next run
  completes) and the graph and its undo history are unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

for _name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # never the developer's settings
    os.environ.setdefault(_name, tempfile.mkdtemp(prefix=f"skipwire-hardening-{_name.lower()}-"))

import psutil  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from builder.graph import Graph  # noqa: E402

WAIT_MS = 240_000
EPOCHS = int(os.environ.get("SKIPWIRE_SOAK_EPOCHS", "32"))  # × 32 steps: 1,024 (157 → 5,024)
WARM_STEPS = 300


class Boxes:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str]] = []
        for kind in ("question", "critical", "warning", "information"):
            monkeypatch.setattr(QMessageBox, kind, staticmethod(self._recorder(kind)))

    def _recorder(self, kind: str) -> Any:
        def call(_parent: Any, _title: str, text: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((kind, text))
            return QMessageBox.StandardButton.Yes if kind == "question" else QMessageBox.StandardButton.Ok
        return call


def _mlp() -> Graph:
    g = Graph("soak")
    ids = [g.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input")]
    for kind, params in (("flatten", None), ("linear", {"out_features": 32}), ("relu", None),
                         ("linear", {"out_features": 10}), ("output", None)):
        ids.append(g.add_block(kind, params, pos=(150.0 * len(ids), 0.0)))
        g.connect(ids[-2], ids[-1], 0)
    return g


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from builder.training import synthetic
    from gui.mainwindow import MainWindow

    boxes = Boxes(monkeypatch)
    win = MainWindow(background=False)
    win.autosaver.folder = tmp_path / "appdata"
    win.autosaver.folder.mkdir()
    qtbot.addWidget(win)
    win.show()
    win.document.set_graph(_mlp())
    ctl = win.training
    ctl.dataset = synthetic(n=320, shape=(3, 8, 8), seed=0)
    ctl.runs_root = tmp_path / "runs"
    ctl.threads = 1
    ctl.panel.set_values(dataset="synthetic", epochs=2, batch_size=32, lr=0.05, device="cpu")
    win.boxes = boxes
    yield win
    ctl.stop_and_wait()


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def test_long_run_with_live_plots_keeps_memory_bounded(qtbot: Any, window: Any) -> None:
    ctl = window.training
    ctl.panel.set_values(epochs=EPOCHS, batch_size=8)  # 256 training images / 8 = 32 steps an epoch
    before = _rss_mb()
    assert ctl.start()
    run = ctl.runs.runs[-1]
    qtbot.waitUntil(lambda: run.steps.seen >= WARM_STEPS, timeout=WAIT_MS)
    warm = _rss_mb()
    qtbot.waitUntil(lambda: not ctl.running, timeout=WAIT_MS)
    qtbot.wait(200)  # the last redraw
    end = _rss_mb()
    assert run.status == "completed", run.error
    assert run.steps.seen == 32 * EPOCHS
    items = ctl.plots._items[id(run)]
    plotted = len(items.loss.getData()[0])
    print(f"{run.steps.seen:,}-step run: RSS before {before:.0f} MB, after {WARM_STEPS} steps {warm:.0f} MB, "
          f"at the end {end:.0f} MB (growth after warm-up {end - warm:+.0f} MB); "
          f"{len(run.steps)} step rows kept, {plotted} points plotted")
    from gui.training.history import GRADIENT_CAP, STEP_CAP

    assert len(run.steps) <= STEP_CAP and plotted <= STEP_CAP
    assert items.image.image is None or items.image.image.shape[1] <= GRADIENT_CAP
    assert end - warm < 60, f"memory grew by {end - warm:.0f} MB after warm-up"


def _usable(qtbot: Any, window: Any) -> None:
    """After a failure: the graph and undo history are untouched and the next run completes."""
    ctl = window.training
    assert not ctl.running and ctl.panel.start_button.isEnabled() and window.isVisible()
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
    assert ctl.runs.runs[-1].status == "completed", ctl.runs.runs[-1].error


def _snapshot(window: Any) -> tuple[Any, int, bool]:
    doc = window.document
    return doc.graph.signature(), doc.undo_stack.count(), doc.modified


def test_exception_inside_the_trainer_mid_run(qtbot: Any, window: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from builder.training import trainer

    real = trainer._Run._train_step
    calls = {"n": 0}

    def flaky(self: Any, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("simulated failure inside the trainer at step 5")
        return real(self, *args)

    monkeypatch.setattr(trainer._Run, "_train_step", flaky)
    ctl, before = window.training, _snapshot(window)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
    run = ctl.runs.runs[-1]
    assert run.status == "failed" and "simulated failure" in run.error
    assert "simulated failure" in ctl.panel.error.text()
    assert [k for k, _ in window.boxes.calls] == ["critical"]
    assert _snapshot(window) == before
    monkeypatch.setattr(trainer._Run, "_train_step", real)
    _usable(qtbot, window)


def test_data_folder_that_disappeared(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "images"
    for c in ("a", "b"):
        (folder / c).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / c / f"{i}.png")
    ctl, before = window.training, _snapshot(window)
    ctl.dataset = None
    ctl.panel.set_values(dataset="folder", data_dir=str(folder), image_size=8, epochs=1, batch_size=2)
    shutil.rmtree(folder)  # chosen in the form, gone before the run starts
    listed = list(ctl.runs.runs)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
    assert ctl.runs.runs == listed  # a failed start is a message, not a run
    assert "not found" in ctl.panel.error.text() and str(folder) in ctl.panel.error.text()
    assert window.boxes.calls == []  # a user error is shown inline, not as a crash
    assert _snapshot(window) == before
    from builder.training import synthetic

    ctl.dataset = synthetic(n=320, shape=(3, 8, 8), seed=0)
    ctl.panel.set_values(dataset="synthetic", image_size=0, epochs=1, batch_size=32)
    _usable(qtbot, window)


def test_device_that_is_not_available(qtbot: Any, window: Any) -> None:
    ctl, before = window.training, _snapshot(window)
    combo = ctl.panel.device
    combo.addItem("cuda:3 — unplugged", "cuda:3")  # listed once, gone now
    combo.setCurrentIndex(combo.findData("cuda:3"))
    listed = list(ctl.runs.runs)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        assert ctl.start()
    assert ctl.runs.runs == listed  # a failed start is a message, not a run
    assert "cuda:3" in ctl.panel.error.text()
    assert _snapshot(window) == before
    combo.setCurrentIndex(combo.findData("cpu"))
    _usable(qtbot, window)
