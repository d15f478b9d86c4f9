"""What the per-layer gradient probe costs, as a share of a training step, in every CPU mode.

Runs the Trainer (run folder, callbacks, probe every step: the defaults) on CIFAR-sized synthetic
images, batch 128, in fp32 NCHW, fp32 channels-last and bf16 channels-last, and times with the
thread's CPU clock everything the probe does inside the real run:

- ``norms``: the per-parameter gradient norms (one ``torch._foreach_norm``; the step computes
  them whether or not a profile is recorded, for the total gradient norm and clipping),
- ``pack``: cutting the per-block norms out and appending them to the step's one host copy,
- ``report``: the host side of a measured step — the GradientSample, the health monitor's look
  at it, the rows of ``gradients.csv`` and TensorBoard, the window's callback,
- ``writer``: the CPU time of the process's other threads over the timed steps (with one torch
  thread that is TensorBoard's writer thread, which serializes and writes the events the
  report hands it; it also writes each step's own four scalars, so this part is an upper bound).

Each is divided by the main thread's CPU time per step (after two warm-up steps; a conservative
denominator for the ``writer`` share). Goal: under 1 % of a step.
Usage: ``python bench/bench_probes.py [--nets resnet20,resnet56] [--steps 8] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from builder import fileformat  # noqa: E402
from builder.training import TrainConfig, Trainer, synthetic, trainer  # noqa: E402
from builder.training.probes import GradientProbe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 2
MODES = {"fp32 NCHW": {"precision": "fp32", "channels_last": False},
         "fp32 channels-last": {"precision": "fp32", "channels_last": True},
         "bf16 channels-last": {"precision": "bf16", "channels_last": True}}


class Timers:
    """Thread CPU time spent in wrapped functions, counted only while ``on``."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.on = False

    def wrap(self, owner: Any, name: str, label: str) -> Callable[[], None]:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                if self.on:
                    self.spent[label] = self.spent.get(label, 0.0) + time.thread_time() - start
        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)


def measure(graph: Any, data: Any, steps: int, settings: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """(CPU seconds per step, CPU seconds per step in each probe part and in the other threads)."""
    timers = Timers()
    undo = [timers.wrap(GradientProbe, "norms", "norms"), timers.wrap(GradientProbe, "pack", "pack"),
            timers.wrap(trainer._Run, "_report_gradients", "report")]
    marks: list[float] = []
    process: list[float] = []
    config = TrainConfig(dataset="synthetic", epochs=1, cpu_threads=torch.get_num_threads(), val_every=0,
                         **settings)
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            run = Trainer(graph, config, data, run_dir=run_dir, on_gradients=lambda g: None)

            def on_step(_m: Any) -> None:
                marks.append(time.thread_time())
                process.append(time.process_time())
                timers.on = WARMUP <= len(marks) < WARMUP + steps + 1
                if len(marks) > WARMUP + steps:
                    run.stop()
            run.on_step = on_step
            run.run()
    finally:
        for restore in undo:
            restore()
    per_step = (marks[WARMUP + steps] - marks[WARMUP]) / steps
    others = (process[WARMUP + steps] - process[WARMUP]) / steps - per_step
    return per_step, {**{k: v / steps for k, v in timers.spent.items()}, "writer": max(others, 0.0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="resnet20,resnet56")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = synthetic(n=160 * (WARMUP + args.steps + 2), shape=(3, 32, 32), num_classes=10, seed=0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch 128 of 3×32×32, "
          f"{args.steps} steps per mode; load average {os.getloadavg()}", flush=True)
    for net in args.nets.split(","):
        graph = fileformat.load(ROOT / "graphs" / f"{net}.json")
        for mode, settings in MODES.items():
            step, parts = measure(graph, data, args.steps, settings)
            total = sum(parts.values())
            shares = ", ".join(f"{k} {1000 * v:.3f} ms ({100 * v / step:.3f} %)" for k, v in parts.items())
            print(f"{net} {mode}: step {1000 * step:.0f} ms CPU; probe {1000 * total:.3f} ms = "
                  f"{100 * total / step:.3f} % of a step ({shares})", flush=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
