"""Costs of the Residual X-ray instruments, as ratios against baselines run in the same process.

On ResNet-56 (and plain-56) fitted to scikit-learn's digits (8×8, 10 classes), random weights
(the costs do not depend on training):

1. ``preflight`` — the pre-flight check (compile + one forward/backward through the recording
   interpreter + one host copy) against one bare train step (forward, backward, SGD) of the
   same batch of 128. Goal for the window's automatic mode: ≤ 0.5 s for ResNet-56.
2. ``split`` — train steps of one module with no probe, with the weight-gradient probe (the
   trainer's per-layer norms), and with the weight probe plus the gradient-split probe armed;
   the three alternate step by step (order rotated), medians of the per-step time. Goal: the
   split probe ≤ 5 % of a step.
3. ``lesion`` — all 27 single-block deletions + the full net on the validation set (359
   images) against one validation pass of the full net. Goal: < 20 s on 2 cores.
4. ``landscape`` — the 21×21 grid on 512 training images against one evaluation of the 512.
   Goal: < 90 s on 2 cores.

Each figure is given as process CPU time and wall time (the machine is shared: CPU time is the
closer estimate of an idle machine's wall time with one thread; with two threads CPU time
counts both). Usage: ``python bench/bench_xray.py [--threads 2] [--only lesion] …``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from builder import templates  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.training import adapt_graph, digits  # noqa: E402
from builder.training.probes import GradientProbe  # noqa: E402
from builder.validate import parameterised  # noqa: E402
from builder.xray.landscape import landscape, subset  # noqa: E402
from builder.xray.lesion import evaluate, lesion  # noqa: E402
from builder.xray.preflight import preflight  # noqa: E402
from builder.xray.split import SplitProbe  # noqa: E402

Times = tuple[float, float]  # (CPU s, wall s)


def timed(fn: Callable[[], object]) -> Times:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def median(times: list[Times]) -> Times:
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def fmt(t: Times) -> str:
    return f"{t[0]:.3f} s CPU / {t[1]:.3f} s wall"


def nets(data):  # type: ignore[no-untyped-def]
    return {name: adapt_graph(templates.cifar_resnet(56, residual=name == "resnet56"),
                              data.input_shape, data.num_classes)[0] for name in ("plain56", "resnet56")}


class Stepper:
    """Train steps of one module; ``step(mode)`` measures nothing (``none``), the weight-gradient
    norms (``weight``, as the trainer's probe), or those and the gradient split (``split``)."""

    def __init__(self, graph, data) -> None:  # type: ignore[no-untyped-def]
        torch.manual_seed(0)
        self.model = compile_graph(graph)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.probe = GradientProbe(self.model, self.model.block_paths, parameterised(graph))
        self.split = SplitProbe()
        self.split.attach(self.model, graph)  # unarmed taps cost a Python call each
        self.x, self.y = data.x_train[:128], data.y_train[:128]

    def step(self, mode: str = "none") -> None:
        self.split.arm(mode == "split")
        loss = F.cross_entropy(self.model(self.x), self.y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if mode == "none":
            loss.detach().cpu().tolist()
        else:
            norms = self.probe.norms()
            head = torch.stack([loss.detach(), torch.linalg.vector_norm(norms)])
            torch.cat([head, self.probe.pack(norms)]).cpu().tolist()
        if mode == "split":
            self.split.collect(0, 1)
        self.opt.step()


def bench_preflight(data, graphs, repeats: int) -> None:  # type: ignore[no-untyped-def]
    for name, graph in graphs.items():
        stepper = Stepper(graph, data)
        stepper.step()
        preflight(graph, data)
        steps, checks = [], []
        for _ in range(repeats):
            steps.append(timed(stepper.step))
            checks.append(timed(lambda g=graph: preflight(g, data)))
        step, check = median(steps), median(checks)
        print(f"pre-flight {name}: {fmt(check)} (median of {repeats}); one bare train step "
              f"{fmt(step)}; ratio {check[0] / step[0]:.2f}× CPU, {check[1] / step[1]:.2f}× wall", flush=True)


def bench_split(data, graph, steps: int) -> None:  # type: ignore[no-untyped-def]
    """The three modes on one module, alternating every step (order rotated), ``steps`` each."""
    stepper = Stepper(graph, data)
    modes = ("none", "weight", "split")
    samples: dict[str, list[Times]] = {m: [] for m in modes}
    for m in modes:
        stepper.step(m)
    for i in range(steps):
        for m in modes[i % 3:] + modes[:i % 3]:
            samples[m].append(timed(lambda m=m: stepper.step(m)))
    base, weight, both = (median(samples[m]) for m in modes)
    pct = lambda a, b, k: 100 * (a[k] / b[k] - 1)
    print(f"split ResNet-56, {steps} steps per mode, interleaved: no probe {fmt(base)}/step; "
          f"weight probe {fmt(weight)} ({pct(weight, base, 0):+.1f}% CPU, {pct(weight, base, 1):+.1f}% "
          f"wall); weight + split probe {fmt(both)} ({pct(both, weight, 0):+.1f}% CPU, "
          f"{pct(both, weight, 1):+.1f}% wall over the weight probe; {pct(both, base, 0):+.1f}% CPU "
          "over no probe)", flush=True)


def bench_lesion(data, graphs) -> None:  # type: ignore[no-untyped-def]
    for name, graph in graphs.items():
        torch.manual_seed(0)
        model = compile_graph(graph)
        one = timed(lambda m=model: evaluate(m, data.x_val, data.y_val))
        one = timed(lambda m=model: evaluate(m, data.x_val, data.y_val))
        result = None

        def run(g=graph, m=model) -> None:
            nonlocal result
            result = lesion(g, m, data.x_val, data.y_val)

        total = timed(run)
        assert result is not None
        evals = 1 + len(result.deleted)
        print(f"lesion {name}: {evals} evaluations of {len(data.y_val)} images in {fmt(total)}; "
              f"one plain evaluation {fmt(one)}; ratio {total[0] / one[0]:.1f}× CPU", flush=True)


def bench_landscape(data, graph, points: int, samples: int) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = compile_graph(graph)
    x, y = subset(data.x_train, data.y_train, samples)
    timed(lambda: evaluate(model, x, y, batch_size=len(y)))
    one = timed(lambda: evaluate(model, x, y, batch_size=len(y)))
    total = timed(lambda: landscape(model, x, y, points=points))
    print(f"landscape ResNet-56 {points}×{points} on {len(y)} images: {fmt(total)} "
          f"({1000 * total[1] / points ** 2:.0f} ms wall per point); one evaluation without "
          f"channels-last {fmt(one)}; ratio {total[0] / one[0]:.0f}× CPU", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=7, help="pre-flight repeats (default 7)")
    parser.add_argument("--steps", type=int, default=40, help="split: steps per mode (default 40)")
    parser.add_argument("--points", type=int, default=21, help="landscape grid (default 21)")
    parser.add_argument("--samples", type=int, default=512, help="landscape images (default 512)")
    parser.add_argument("--only", choices=("preflight", "split", "lesion", "landscape"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = digits()
    graphs = nets(data)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {data.describe()}", flush=True)
    if args.only in (None, "preflight"):
        bench_preflight(data, graphs, args.repeats)
    if args.only in (None, "split"):
        bench_split(data, graphs["resnet56"], args.steps)
    if args.only in (None, "lesion"):
        bench_lesion(data, graphs)
    if args.only in (None, "landscape"):
        bench_landscape(data, graphs["resnet56"], args.points, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
