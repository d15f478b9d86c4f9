"""Costs of the Residual X-ray instruments, as ratios against baselines run in the same process.

On ResNet-56 (and plain-56) fitted to scikit-learn's digits (8×8, 10 classes), random weights
(the costs do not depend on training):

1. ``preflight`` — the pre-flight check (compile + one forward/backward through the recording
   interpreter + one host copy) against one bare train step (forward, backward, SGD) of the
   same batch of 128. Goal for the window's automatic mode: ≤ 0.5 s for ResNet-56.
2. ``split`` — train steps with the weight-gradient probe alone vs the weight probe plus the
   gradient-split probe armed, and with no probe at all; interleaved rounds, medians of the
   per-step time. Goal: split probe ≤ 5 % of a step.
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
    """Train steps of one module with a chosen instrumentation."""

    def __init__(self, graph, data, weight_probe: bool, split: bool) -> None:  # type: ignore[no-untyped-def]
        torch.manual_seed(0)
        self.model = compile_graph(graph)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.probe = GradientProbe(self.model, self.model.block_paths, parameterised(graph)) \
            if weight_probe else None
        self.split = SplitProbe() if split else None
        if self.split is not None:
            self.split.attach(self.model, graph)
        self.x, self.y = data.x_train[:128], data.y_train[:128]

    def step(self) -> None:
        if self.split is not None:
            self.split.arm(True)
        loss = F.cross_entropy(self.model(self.x), self.y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        head = [loss.detach()]
        if self.probe is not None:
            norms = self.probe.norms()
            head.append(torch.linalg.vector_norm(norms))
            torch.cat([torch.stack(head), self.probe.pack(norms)]).cpu().tolist()
        else:
            torch.stack(head).cpu().tolist()
        if self.split is not None:
            self.split.collect(0, 1)
        self.opt.step()


def bench_preflight(data, graphs, repeats: int) -> None:  # type: ignore[no-untyped-def]
    for name, graph in graphs.items():
        stepper = Stepper(graph, data, weight_probe=False, split=False)
        stepper.step()
        preflight(graph, data)
        steps, checks = [], []
        for _ in range(repeats):
            steps.append(timed(stepper.step))
            checks.append(timed(lambda g=graph: preflight(g, data)))
        step, check = median(steps), median(checks)
        print(f"pre-flight {name}: {fmt(check)} (median of {repeats}); one bare train step "
              f"{fmt(step)}; ratio {check[0] / step[0]:.2f}× CPU, {check[1] / step[1]:.2f}× wall", flush=True)


def bench_split(data, graph, rounds: int, steps: int) -> None:  # type: ignore[no-untyped-def]
    configs = {"no probe": Stepper(graph, data, False, False),
               "weight probe": Stepper(graph, data, True, False),
               "weight + split probe": Stepper(graph, data, True, True)}
    samples: dict[str, list[Times]] = {k: [] for k in configs}
    for s in configs.values():
        s.step()
    for r in range(rounds):
        order = list(configs) if r % 2 == 0 else list(reversed(configs))
        for name in order:
            for _ in range(steps):
                samples[name].append(timed(configs[name].step))
    base = median(samples["no probe"])
    weight = median(samples["weight probe"])
    both = median(samples["weight + split probe"])
    print(f"split ResNet-56, {rounds} rounds × {steps} steps: no probe {fmt(base)}/step; "
          f"weight probe {fmt(weight)} ({100 * (weight[0] / base[0] - 1):+.1f}% CPU, "
          f"{100 * (weight[1] / base[1] - 1):+.1f}% wall); + split probe {fmt(both)} "
          f"({100 * (both[0] / weight[0] - 1):+.1f}% CPU, {100 * (both[1] / weight[1] - 1):+.1f}% wall "
          f"over the weight probe)", flush=True)


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
    parser.add_argument("--rounds", type=int, default=6, help="split: interleaved rounds (default 6)")
    parser.add_argument("--steps", type=int, default=5, help="split: steps per round (default 5)")
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
        bench_split(data, graphs["resnet56"], args.rounds, args.steps)
    if args.only in (None, "lesion"):
        bench_lesion(data, graphs)
    if args.only in (None, "landscape"):
        bench_landscape(data, graphs["resnet56"], args.points, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
