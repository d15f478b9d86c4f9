"""Two CPU processes with gloo: the group's threads end at shutdown; torchrun exits 0, ten runs in ten.

Runs ``python -m torch.distributed.run`` from the running interpreter (the project's venv) on
a tiny graph and 512 synthetic 3×8×8 images, so a run is mostly the three ``import torch``s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from builder import fileformat
from tests.training.conftest import tiny_net
from tests.training.test_distributed import _free_port

ROOT = Path(__file__).resolve().parents[2]


def gloo_threads() -> list[str]:
    """Names of this process's gloo threads (Linux's /proc/self/task/*/comm)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            name = Path(f"/proc/self/task/{task}/comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        if "gloo" in name:
            names.append(name)
    return sorted(names)


def _worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    from builder.training import Trainer, datasets, distributed
    from tests.training.conftest import quick_config

    ctx = distributed.init(rank, world, "gloo")
    data = datasets.synthetic(n=160, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)
    try:
        result = Trainer(tiny_net(), quick_config(epochs=1), data, dist=ctx).run()
        joined = gloo_threads()
    finally:
        distributed.shutdown(ctx)
    left = gloo_threads()
    distributed.shutdown(ctx)  # a second call is harmless
    torch.save({"status": result.status, "joined": joined, "left": left},
               os.path.join(folder, f"rank{rank}.pt"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="thread names come from Linux's /proc")
def test_leaving_the_group_ends_its_threads_after_a_ddp_run(tmp_path: Path) -> None:
    # DDP imports torch.distributed.nn.functional, whose defaults captured group.WORLD and kept
    # gloo's threads alive after destroy_process_group, until the interpreter's own teardown
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(_free_port())
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        state = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert state["status"] == "completed"
        assert "pt_gloo_runloop" in state["joined"]
        assert state["left"] == [], f"rank {rank} kept {state['left']} after shutdown"


def _torchrun(graph: Path, run_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(ROOT / "main.py"), "train", str(graph), "--dataset", "synthetic", "--device", "cpu",
               "--epochs", "2", "--batch-size", "64", "--threads", "1", "--run-dir", str(run_dir)]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return subprocess.run(command, cwd=run_dir.parent, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_torchrun_two_gloo_processes_exit_0_ten_times_in_ten(tmp_path: Path) -> None:
    graph = tmp_path / "res8.json"
    fileformat.save(tiny_net(), graph)
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:  # two jobs at a time: one imports while the other trains
        done = list(pool.map(lambda i: _torchrun(graph, tmp_path / f"run{i}"), range(10)))
    seconds = time.perf_counter() - start
    failures = [f"run{i}: exit {p.returncode}\n{p.stderr[-1500:]}" for i, p in enumerate(done)
                if p.returncode != 0 or "terminate called" in p.stderr]
    assert not failures, "\n".join(failures)
    for i, proc in enumerate(done):
        assert "status: completed" in proc.stdout and "epochs 2/2" in proc.stdout
        assert len((tmp_path / f"run{i}" / "metrics.csv").read_text().splitlines()) == 3
    print(f"10 torchrun jobs in {seconds:.0f} s")
