"""Pause and stop through the run folder's control file, for one process and for two gloo ranks
that must take the same decision at the same step."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from builder.training import Trainer, control
from tests.training.conftest import quick_config, tiny_net
from tests.training.test_distributed import _free_port


def test_control_words_are_checked(tmp_path: Path) -> None:
    control.write(tmp_path, "pause")
    assert (tmp_path / control.FILE).read_text() == "pause\n"
    with pytest.raises(ValueError, match="control word must be one of"):
        control.write(tmp_path, "halt")


def test_the_control_file_pauses_and_stops_a_run(net, data, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(control, "POLL_S", 0.0)
    steps: list[tuple[int, float]] = []

    def on_step(m) -> None:  # type: ignore[no-untyped-def]
        steps.append((m.step, time.monotonic()))
        if m.step == 1:
            control.write(tmp_path, "pause")
            threading.Timer(0.5, control.write, (tmp_path, "run")).start()
        if m.step == 5:
            control.write(tmp_path, "stop")

    result = Trainer(net, quick_config(epochs=5), data, run_dir=str(tmp_path), on_step=on_step).run()
    assert result.status == "stopped" and [s for s, _ in steps] == list(range(6))
    assert steps[2][1] - steps[1][1] >= 0.45  # held while the file said pause


def _worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    from builder.training import control as ctl
    from builder.training import datasets, distributed

    ctl.POLL_S = 0.0
    ctx = distributed.init(rank, world, "gloo")
    try:
        data = datasets.synthetic(n=160, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)
        for word in ("pause", "stop"):
            run_dir = os.path.join(folder, word)

            def on_step(m, word: str = word, run_dir: str = run_dir) -> None:  # type: ignore[no-untyped-def]
                if m.step == 2:  # rank 0 only: the window writes the file, every rank reads it
                    ctl.write(run_dir, word)
                    if word == "pause":
                        threading.Timer(0.5, ctl.write, (run_dir, "run")).start()

            trainer = Trainer(tiny_net(), quick_config(epochs=4), data, dist=ctx, run_dir=run_dir,
                              on_step=on_step)
            start = time.monotonic()
            result = trainer.run()
            params = {k: v.detach().clone() for k, v in trainer.module.named_parameters()}
            torch.save({"params": params, "status": result.status, "steps": result.steps,
                        "seconds": time.monotonic() - start}, os.path.join(folder, f"{word}{rank}.pt"))
    finally:
        distributed.shutdown(ctx)


def test_two_ranks_pause_and_stop_at_the_same_step(tmp_path: Path) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(_free_port())
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    for word, status, steps in (("pause", "completed", 4 * 2), ("stop", "stopped", 3)):
        r0, r1 = (torch.load(tmp_path / f"{word}{r}.pt", weights_only=True) for r in (0, 1))
        assert r0["status"] == r1["status"] == status, word
        assert r0["steps"] == r1["steps"] == steps, word  # 64 images a rank: 2 steps an epoch
        for name, value in r0["params"].items():
            assert torch.equal(value, r1["params"][name]), (word, name)
        if word == "pause":
            assert min(r0["seconds"], r1["seconds"]) >= 0.45
