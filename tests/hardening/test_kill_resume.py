"""Kill a headless training run with SIGKILL, resume from its last checkpoint: the same curves.

``python main.py train`` runs in a subprocess on the CPU; once its checkpoint holds epoch 2
or later it is killed. The checkpoint must be intact (written atomically), and resuming from
it must reproduce, epoch for epoch, the metrics of an uninterrupted run with the same seed.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from builder import fileformat
from builder.graph import Graph
from builder.training import records
from builder.training.config import TrainConfig
from builder.training.trainer import Trainer

from .conftest import ROOT

EPOCHS = 6
DEVICE = os.environ.get("SKIPWIRE_HARDENING_DEVICE", "cpu")  # "cuda" on a GPU machine
SETTINGS = {"dataset": "synthetic", "image_size": 16, "epochs": EPOCHS, "batch_size": 32, "seed": 3,
            "device": DEVICE, "lr": 0.1}


def _graph() -> Graph:
    graph = Graph("killme")
    ids = [graph.add_block("input", {"channels": 3, "height": 16, "width": 16})]
    for kind, params in (("conv2d", {"out_channels": 8}), ("batchnorm2d", None), ("relu", None),
                         ("conv2d", {"out_channels": 8}), ("relu", None), ("global_avgpool", None),
                         ("flatten", None), ("linear", {"out_features": 10}), ("output", None)):
        ids.append(graph.add_block(kind, params))
        graph.connect(ids[-2], ids[-1], 0)
    return graph


def _start_cli_run(graph_path: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "main.py", "train", str(graph_path), "--run-dir", str(run_dir), "--quiet",
            "--no-adapt", "--threads", "1"]
    for key, value in SETTINGS.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _checkpoint_epoch(path: Path) -> int:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except Exception:  # not there yet
        return 0


def _kill_after_epoch(proc: subprocess.Popen[bytes], checkpoint: Path, epoch: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"the run ended (rc {proc.returncode}) before it could be killed:\n{out[-2000:]}")
        if checkpoint.exists() and (seen := _checkpoint_epoch(checkpoint)) >= epoch:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return seen
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no checkpoint within 120 s")


def _metrics(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as fh:
        return [{k: float(v) for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def test_sigkilled_run_resumes_on_the_same_curves(tmp_path: Path) -> None:
    graph_path = tmp_path / "killme.json"
    fileformat.save(_graph(), graph_path)
    killed_dir = tmp_path / "killed"
    proc = _start_cli_run(graph_path, killed_dir)
    killed_at = _kill_after_epoch(proc, killed_dir / records.CHECKPOINT, 2)
    assert proc.returncode == -signal.SIGKILL
    state = records.load_checkpoint(killed_dir / records.CHECKPOINT)  # intact after the kill
    assert int(state["epoch"]) >= killed_at and int(state["epoch"]) < EPOCHS

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI run
    try:
        config = TrainConfig(**SETTINGS)
        resumed = Trainer(fileformat.load(graph_path), config, run_dir=str(killed_dir),
                          resume_from=str(killed_dir / records.CHECKPOINT)).run()
        straight_dir = tmp_path / "straight"
        straight = Trainer(fileformat.load(graph_path), config, run_dir=str(straight_dir)).run()
    finally:
        torch.set_num_threads(threads)
    assert resumed.status == straight.status == "completed"
    assert resumed.epochs_done == straight.epochs_done == EPOCHS
    assert resumed.steps == straight.steps
    a, b = _metrics(killed_dir), _metrics(straight_dir)
    assert [r["epoch"] for r in a] == list(range(1, EPOCHS + 1)), "rows up to the checkpoint, then resumed"
    for row_a, row_b in zip(a, b, strict=True):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert row_a[key] == pytest.approx(row_b[key], rel=1e-4, abs=1e-6), (row_a["epoch"], key)
    print(f"killed after epoch {killed_at} of {EPOCHS}; resumed to {resumed.epochs_done}; final train loss "
          f"{a[-1]['train_loss']:.5f} vs uninterrupted {b[-1]['train_loss']:.5f}")
