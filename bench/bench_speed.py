"""The app's default training path versus the loop a person writes by hand, on the CPU.

App: :class:`~builder.training.trainer.Trainer` with the default settings, as ``main.py train``
and the window run it — ``precision auto`` (bf16 where the CPU computes it natively),
channels-last, the per-layer gradient probe every step, a run folder with its CSVs and
TensorBoard files, per-step callbacks. "bf16 off": the same with ``--precision fp32``.
Hand-written: the graph's module (``compile_graph``: a torch.fx module, as fast as a
hand-written ResNet — see ``bench_compile.py``) trained in fp32, NCHW, eagerly, over a
``TensorDataset`` and a shuffling ``DataLoader``: SGD with momentum and weight decay,
``zero_grad`` / ``backward`` / ``step`` and one ``loss.item()`` per step.

Both train on the same CIFAR-sized synthetic images (3×32×32, 10 classes), batch 128. Each round
runs every variant for ``--steps`` timed steps after two warm-up steps (the order rotates every
round); images/s are compared per round, as the ratio app ÷ hand-written, for wall time and for
the process's CPU time (with one thread the CPU time counts only this process's work: the
better estimate on a machine shared with others). Medians over rounds are printed with the
load average before and after.

Usage: ``python bench/bench_speed.py [--nets resnet20,resnet56] [--rounds 5] [--steps 6]
[--threads 1]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from builder import fileformat  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.training import TrainConfig, Trainer, synthetic  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 2
Timing = tuple[float, float]  # (wall s, CPU s) per image


def clock() -> Timing:
    return time.perf_counter(), time.process_time()


def hand_written(graph, data, steps: int, seed: int) -> Timing:  # type: ignore[no-untyped-def]
    """Seconds per image (wall, CPU) of the loop a person writes, after the warm-up steps."""
    torch.manual_seed(seed)
    model = compile_graph(graph)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=128, shuffle=True)
    model.train()
    start, images = clock(), 0
    for i, (xb, yb) in enumerate(loader):
        if i == WARMUP:
            start, images = clock(), 0
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        images += len(yb)
        if i + 1 == WARMUP + steps:
            break
    end = clock()
    return (end[0] - start[0]) / images, (end[1] - start[1]) / images


def app(graph, data, steps: int, seed: int, **settings) -> Timing:  # type: ignore[no-untyped-def]
    """Seconds per image of the Trainer's steps after the warm-up (setup and validation left out)."""
    config = TrainConfig(dataset="synthetic", epochs=1, batch_size=128, seed=seed,
                         cpu_threads=torch.get_num_threads(), val_every=0, **settings)
    marks: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(graph, config, data, run_dir=run_dir, on_step=lambda m: marks.append(clock()),
                          on_epoch=lambda m: None, on_gradients=lambda g: None)
        trainer.on_step = lambda m: (marks.append(clock()), trainer.stop() if len(marks) > WARMUP + steps
                                     else None)
        result = trainer.run()
    assert result.status == "stopped", result.error
    first, last = marks[WARMUP], marks[WARMUP + steps]
    return (last[0] - first[0]) / (128 * steps), (last[1] - first[1]) / (128 * steps)


def rounds(variants: dict[str, Callable[[], Timing]], count: int) -> dict[str, list[Timing]]:
    """Each variant once per round; the order rotates so none always runs first."""
    names = list(variants)
    out: dict[str, list[Timing]] = {n: [] for n in names}
    for r in range(count):
        for name in names[r % len(names):] + names[:r % len(names)]:
            out[name].append(variants[name]())
        print(f"  round {r + 1}: " + ", ".join(f"{n} {1 / out[n][-1][1]:.0f} img/s CPU"
                                                 for n in names), flush=True)
    return out


def report(net: str, times: dict[str, list[Timing]], baseline: str) -> None:
    base = times[baseline]
    for name, ts in times.items():
        if name == baseline:
            continue
        for k, kind in ((0, "wall"), (1, "CPU")):
            ratios = [b[k] / t[k] for b, t in zip(base, ts, strict=True)]
            print(f"{net} {name} ÷ {baseline} ({kind}): median {statistics.median(ratios):.2f}× "
                  f"(rounds {min(ratios):.2f}–{max(ratios):.2f}); {name} "
                  f"{1 / statistics.median(t[k] for t in ts):.0f} img/s, {baseline} "
                  f"{1 / statistics.median(b[k] for b in base):.0f} img/s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="resnet20,resnet56")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from builder.training import precision

    data = synthetic(n=160 * (WARMUP + args.steps + 2), shape=(3, 32, 32), num_classes=10, seed=0)
    auto = precision.resolve("auto", torch.device("cpu"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {data.describe()}; "
          f"precision {auto.describe()}; load average {os.getloadavg()}", flush=True)
    for net in args.nets.split(","):
        graph = fileformat.load(ROOT / "graphs" / f"{net}.json")
        variants = {"hand-written": partial(hand_written, graph, data, args.steps, 0),
                    "app default": partial(app, graph, data, args.steps, 0),
                    "app bf16 off": partial(app, graph, data, args.steps, 0, precision="fp32")}
        print(f"{net}: {args.rounds} rounds of {args.steps} steps", flush=True)
        report(net, rounds(variants, args.rounds), "hand-written")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
