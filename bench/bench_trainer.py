"""Trainer overhead, as ratios against a baseline run in the same process (CPU).

1. The trainer's step loop versus a bare hand-written loop on the same compiled module and the
   same device-resident data (shuffled batches, SGD, one ``loss.item()`` per step, a validation
   pass per epoch). Goal: ≤ 5 % overhead.
2. Per-layer gradient probe on every step versus no probe, on ResNet-56. Goal: ≤ 3 %.
   (Also reported: output-gradient norms through ``Tensor.register_hook``.)

Runs alternate A/B several times and compare medians of the process CPU time (with one torch
thread it is the compute time, much less disturbed than wall time by other processes sharing
the cores); wall-time medians are printed too.
Usage: ``python bench/bench_trainer.py [--repeats 5] [--epochs 2] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="A/B pairs per comparison (default 5)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--micro-only", action="store_true", help="only the per-step cost figures")
    return parser


if __name__ == "__main__":
    _parser().parse_args()  # answers --help before torch is imported


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from builder import templates  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.training import TrainConfig, Trainer, adapt_graph, digits  # noqa: E402
from builder.training.loader import Batches, epoch_generator  # noqa: E402
from builder.training.optim import lr_at  # noqa: E402


def clock() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def since(start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    return now[0] - start[0], now[1] - start[1]


def bare_loop(graph, config: TrainConfig, data) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A hand-written training loop; returns its (CPU, wall) time in seconds."""
    start = clock()
    torch.manual_seed(config.seed)
    model = compile_graph(graph)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    steps = -(-len(data.y_train) // config.batch_size)
    step = 0
    for epoch in range(config.epochs):
        model.train()
        for xb, yb in Batches(data.x_train, data.y_train, config.batch_size, shuffle=True,
                              gen=epoch_generator(config.seed, epoch)):
            for group in opt.param_groups:
                group["lr"] = lr_at(config, step, steps)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
            step += 1
        model.eval()
        with torch.no_grad():
            for xb, yb in Batches(data.x_val, data.y_val, config.batch_size * 2):
                F.cross_entropy(model(xb), yb).item()
    return since(start)


def trainer_run(graph, config: TrainConfig, data) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    start = clock()
    result = Trainer(graph, config, data, on_step=lambda m: None, on_epoch=lambda m: None,
                     on_gradients=lambda g: None).run()
    assert result.status == "completed", result.error
    return since(start)


def ab(name: str, a, b, repeats: int) -> float:  # type: ignore[no-untyped-def]
    """Median of B over median of A, alternating runs (one warm-up each first)."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(a())
        times_b.append(b())
    cpu_a, cpu_b = (statistics.median(t[0] for t in ts) for ts in (times_a, times_b))
    wall_a, wall_b = (statistics.median(t[1] for t in ts) for ts in (times_a, times_b))
    best = min(t[0] for t in times_b) / min(t[0] for t in times_a)
    print(f"{name}: CPU time ratio {cpu_b / cpu_a:.3f} of medians, {best:.3f} of minima "
          f"(medians {cpu_a:.2f} s → {cpu_b:.2f} s; "
          f"runs {', '.join(f'{t[0]:.2f}' for t in times_a)} | {', '.join(f'{t[0]:.2f}' for t in times_b)}); "
          f"wall ratio {wall_b / wall_a:.3f} ({wall_a:.2f} s → {wall_b:.2f} s)", flush=True)
    return cpu_b / cpu_a


def micro(graph, data, reps: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Per-step instrumentation cost, timed alone, as a fraction of a median training step."""
    from builder.training.probes import GradientProbe
    from builder.validate import parameterised

    torch.manual_seed(0)
    model = compile_graph(graph)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb, yb = data.x_train[:128], data.y_train[:128]
    steps = []
    for _ in range(15):
        t = time.process_time()
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
        steps.append(time.process_time() - t)
    step = statistics.median(steps[3:])
    probe = GradientProbe(model, model.block_paths, parameterised(graph))

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        t = time.process_time()
        for _ in range(reps):
            fn()
        return (time.process_time() - t) / reps

    head = lambda: torch.stack([loss.detach(), loss.detach(), torch.linalg.vector_norm(probe.norms())])
    always = timed(lambda: head().cpu().tolist())
    measured = timed(lambda: probe.sample(torch.cat([head(), probe.pack(probe.norms())]).cpu().tolist(),
                                          0, 1))
    print(f"{graph.name}: step {1000 * step:.1f} ms CPU; per-step sync of loss/correct/total norm "
          f"{1000 * always:.3f} ms ({100 * always / step:.2f}% of a step); with the per-layer probe "
          f"{1000 * measured:.3f} ms ({100 * measured / step:.2f}%, probe alone "
          f"{100 * (measured - always) / step:.2f}%)", flush=True)


def main() -> int:
    args = _parser().parse_args()
    torch.set_num_threads(args.threads)
    data = digits()
    base = TrainConfig(epochs=args.epochs, device="cpu", probe_every=0, seed=0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {data.describe()}, "
          f"{args.epochs} epochs per run, {args.repeats} repeats")
    r20, _ = adapt_graph(templates.cifar_resnet(20), data.input_shape, 10)
    r56, _ = adapt_graph(templates.cifar_resnet(56), data.input_shape, 10)
    micro(r20, data)
    micro(r56, data)
    if args.micro_only:
        return 0
    ab("ResNet-20 trainer (no probe) vs bare loop", lambda: bare_loop(r20, base, data),
       lambda: trainer_run(r20, base, data), args.repeats)
    ab("ResNet-56 trainer (no probe) vs bare loop", lambda: bare_loop(r56, base, data),
       lambda: trainer_run(r56, base, data), args.repeats)
    probe = base.replace(probe_every=1)
    ab("ResNet-56 probe every step vs no probe", lambda: trainer_run(r56, base, data),
       lambda: trainer_run(r56, probe, data), args.repeats)
    outputs = base.replace(probe_every=1, probe_outputs=True)
    ab("ResNet-56 probe + output-gradient norms vs no probe", lambda: trainer_run(r56, base, data),
       lambda: trainer_run(r56, outputs, data), args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
