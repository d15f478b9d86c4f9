"""Training in two CPU processes from the window: "CPU × 2 processes" in the device list starts
torchrun (gloo) as a child process; the plots follow rank 0's run folder live; Pause and Stop
reach both ranks through the run folder's control file."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui.training import launch
from gui.training.worker import Job
from tests.gui.test_training import tiny_cnn

WAIT_MS = 240_000  # torchrun and two processes that import torch, on a busy 2-core machine


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    caught: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc))
    return caught


def click(button: Any) -> None:
    assert button.isEnabled() and button.isVisible(), button.text()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def pick(combo: Any, data: str) -> None:
    """Open the combo's list and click the entry whose data is ``data``, as a person does."""
    combo.showPopup()
    view = combo.view()
    index = combo.findData(data)
    assert index >= 0, [combo.itemData(i) for i in range(combo.count())]
    rect = view.visualRect(view.model().index(index, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert combo.currentData() == data


def test_the_torchrun_command_and_the_threads_per_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from builder.training import TrainConfig

    job = Job("net", tiny_cnn(), TrainConfig(device="cpu", cpu_threads=3), str(tmp_path / "r"), adapt=False)
    cmd = launch.command(job, 2, tmp_path / "files", python="py")
    assert cmd[:5] == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    assert cmd[5].endswith("main.py") and cmd[6:8] == ["train", str(tmp_path / "files" / launch.LAUNCH_GRAPH)]
    assert cmd[cmd.index("--run-dir") + 1] == str(tmp_path / "r")  # new: train never writes into a run
    assert cmd[-1] == "--no-adapt" and "--quiet" in cmd
    assert launch.per_process(job.config, 2).cpu_threads == 1
    assert launch.per_process(job.config.replace(device="auto"), 2).cpu_threads == 3


def test_two_cpu_processes_from_the_window(qtbot, window, tmp_path, hook) -> None:  # type: ignore[no-untyped-def]
    ctl = window.training
    ctl.runs_root = tmp_path / "runs"
    window.document.set_graph(tiny_cnn())
    ctl.panel.set_values(dataset="synthetic", epochs=30, batch_size=16, lr=0.05, cpu_threads=2,
                         probe_every=1)
    ctl.panel_dock.raise_()
    pick(ctl.panel.device, "cpu*2")
    assert ctl.panel.values()["device"] == "cpu" and ctl.panel.device.processes() == 2
    started = time.monotonic()
    click(ctl.panel.start_button)
    assert ctl.running and isinstance(ctl.train_thread, launch.ProcessRun)
    run = ctl.active[0]
    qtbot.waitUntil(lambda: run.steps.seen >= 2, timeout=WAIT_MS)  # rank 0's rows, followed live
    first_step_s = time.monotonic() - started
    assert run.device == "cpu ×2 · " + run.device.rsplit(" ", 1)[-1] and run.block_ids
    assert "× 2 processes" in ctl.panel.status.text() and "precision auto → " in ctl.panel.status.text()

    click(ctl.panel.pause_button)  # every rank holds at the same step
    control = tmp_path / "runs"
    folder = next(control.iterdir())
    assert (folder / "control").read_text().strip() == "pause"
    qtbot.wait(1500)
    held = run.steps.seen
    qtbot.wait(1500)
    assert run.steps.seen == held and run.status == "paused"
    click(ctl.panel.pause_button)  # Resume
    assert (folder / "control").read_text().strip() == "run"
    qtbot.waitUntil(lambda: len(run.epochs) >= 1 and run.heat is not None and len(run.heat) > 0,
                    timeout=WAIT_MS)
    with qtbot.waitSignal(ctl.all_finished, timeout=WAIT_MS):
        click(ctl.panel.stop_button)  # both ranks stop, so torchrun ends
    assert not ctl.running and run.status == "stopped", (run.status, run.error)
    setup = json.loads((folder / "setup.json").read_text())
    assert setup["processes"] == 2 and setup["device"] == "cpu" and setup["threads"] == 1
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "stopped" and meta["processes"] == 2 and "× 2 processes" in meta["setup"]
    assert (folder / "original_graph.json").is_file()
    assert run.epochs[0].epoch == 1 and run.epochs[0].train_loss > 0
    assert hook == []
    print(f"first followed step {first_step_s:.1f} s after Start; whole test "
          f"{time.monotonic() - started:.1f} s")
