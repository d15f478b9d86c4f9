"""Two CPU processes with gloo: DistributedDataParallel ends with identical weights on both ranks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    from builder.training import Trainer, datasets, distributed
    from tests.training.conftest import quick_config, tiny_net

    ctx = distributed.init(rank, world, "gloo")
    try:
        data = datasets.synthetic(n=160, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)
        seen: list[int] = []
        trainer = Trainer(tiny_net(), quick_config(epochs=2), data, dist=ctx,
                          run_dir=os.path.join(folder, f"run{rank}"),
                          on_step=lambda m: seen.append(m.step))
        result = trainer.run()
        params = {k: v.detach().clone() for k, v in trainer.module.named_parameters()}
        torch.save({"params": params, "status": result.status, "steps": len(seen),
                    "history": [(h.train_loss, h.val_acc) for h in result.history]},
                   os.path.join(folder, f"rank{rank}.pt"))
    finally:
        distributed.shutdown(ctx)


def test_two_gloo_ranks_end_with_identical_weights(tmp_path: Path) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(_free_port())
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["status"] == r1["status"] == "completed"
    assert r0["params"].keys() == r1["params"].keys() and len(r0["params"]) > 10
    for name, value in r0["params"].items():
        assert torch.equal(value, r1["params"][name]), name
    # 128 training images split over 2 ranks: 64 each, 2 batches of 32 per epoch
    assert r0["steps"] == 4 and r1["steps"] == 0  # only rank 0 reports steps
    assert r0["history"] and r0["history"][-1][0] < r0["history"][0][0]
    assert (tmp_path / "run0" / "metrics.csv").is_file() and not (tmp_path / "run1").exists()
