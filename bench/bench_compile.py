"""Train-step speed of a compiled graph against the same network written by hand.

Run: ``python bench/bench_compile.py [--depths 20 56] [--rounds 7] [--steps 2] [--threads 1]``

For each depth, the shipped ``graphs/resnet{depth}.json`` is compiled to a torch.fx
GraphModule, and :class:`HandResNet` — He et al.'s CIFAR ResNet with option-A shortcuts, written
directly in PyTorch here — gets the same weights through ``load_state_dict`` (the key names
agree). Outputs are checked equal first (eval mode, then one training step's loss and
gradients). Then one *train step* (forward, cross-entropy, backward, SGD step with momentum 0.9
and weight decay 1e-4; batch 128, 3×32×32) is timed, alternating hand-written and compiled in
interleaved rounds (the order flips every round), in the same process. The printed ratio is
hand-written step time ÷ compiled step time per round, median over rounds: 1.00 means the
compiled module trains exactly as fast; the goal is ≥ 0.98.

Both wall-clock time and the process's CPU time are recorded per step. On a machine shared
with other work, wall time swings with the load; with ``--threads 1`` the CPU time counts only
the work this process did, so its ratio is the steadier figure there. Also printed: the ratio
of the fastest steps (min ÷ min), which interference can only make slower.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56],
                        help="ResNet depths whose shipped graphs are timed (default 20 56)")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    parser.add_argument("--steps", type=int, default=1, help="train steps per model per round")
    parser.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's choice)")
    return parser


if __name__ == "__main__":
    _parser().parse_args()  # answers --help before torch is imported


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder import fileformat  # noqa: E402  (after the path set-up above)
from builder.compile import compile_graph  # noqa: E402

GOAL = 0.98


class BasicBlock(nn.Module):
    """Two 3×3 conv + BN layers with an identity or option-A (subsample + zero-pad) shortcut."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        self.extra = planes - in_planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.extra:
            shortcut = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.extra))
        return F.relu(out + shortcut)


class HandResNet(nn.Module):
    """He et al. 2015 CIFAR ResNet-(6n+2): stages of 16/32/64 filters, global pool, linear."""

    def __init__(self, depth: int, num_classes: int = 10) -> None:
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._stage(16, 16, n, 1)
        self.layer2 = self._stage(16, 32, n, 2)
        self.layer3 = self._stage(32, 64, n, 2)
        self.fc = nn.Linear(64, num_classes)

    @staticmethod
    def _stage(in_planes: int, planes: int, n: int, stride: int) -> nn.Sequential:
        blocks = [BasicBlock(in_planes, planes, stride)]
        blocks += [BasicBlock(planes, planes, 1) for _ in range(n - 1)]
        return nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)
        return self.fc(out)


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)


def _step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return float(loss.detach())


def check_same(hand: nn.Module, compiled: nn.Module, depth: int) -> None:
    """Same weights give the same outputs, loss and gradients (raises AssertionError)."""
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    with torch.no_grad():
        torch.testing.assert_close(hand.eval()(x), compiled.eval()(x), rtol=1e-4, atol=1e-5)
    hand.train()
    compiled.train()
    for model in (hand, compiled):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
    grads = dict(compiled.named_parameters())
    for name, param in hand.named_parameters():
        torch.testing.assert_close(param.grad, grads[name].grad, rtol=1e-3, atol=1e-5)
    print(f"resnet{depth}: outputs, loss and gradients equal "
          f"({sum(p.numel() for p in hand.parameters()):,} parameters each)")


def _time_steps(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                steps: int) -> tuple[float, float]:
    """(wall s, CPU s) per train step, averaged over ``steps``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        _step(model, opt, x, y)
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def _report(depth: int, clock: str, hand: list[float], compiled: list[float]) -> float:
    ratios = [h / c for h, c in zip(hand, compiled, strict=True)]
    ratio = statistics.median(ratios)
    print(f"resnet{depth} {clock:>4}: hand-written {statistics.median(hand) * 1e3:6.0f} ms, compiled "
          f"{statistics.median(compiled) * 1e3:6.0f} ms per step; hand/compiled median {ratio:.3f}, "
          f"min/min {min(hand) / min(compiled):.3f} "
          f"(rounds {min(ratios):.2f}–{max(ratios):.2f}) {'meets' if ratio >= GOAL else 'MISSES'} ≥ {GOAL}")
    return ratio


def bench_depth(depth: int, rounds: int, steps: int, batch: int) -> dict[str, float]:
    """Median over rounds of hand-written ÷ compiled train-step time, per clock."""
    compiled = compile_graph(fileformat.load(ROOT / "graphs" / f"resnet{depth}.json"))
    hand = HandResNet(depth)
    hand.load_state_dict(compiled.state_dict())  # strict: every key must match
    check_same(hand, compiled, depth)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    models = {"hand": (hand.train(), _optimizer(hand)), "compiled": (compiled.train(), _optimizer(compiled))}
    for model, opt in models.values():  # warm-up: allocator, momentum buffers
        _step(model, opt, x, y)
    times: dict[str, dict[str, list[float]]] = {c: {"hand": [], "compiled": []} for c in ("wall", "cpu")}
    for r in range(rounds):
        for name in (["hand", "compiled"] if r % 2 == 0 else ["compiled", "hand"]):
            wall, cpu = _time_steps(*models[name], x, y, steps)
            times["wall"][name].append(wall)
            times["cpu"][name].append(cpu)
    print(f"resnet{depth}: train step, batch {batch}, {rounds} rounds × {steps} step(s)")
    return {clock: _report(depth, clock, t["hand"], t["compiled"]) for clock, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    results = [bench_depth(d, args.rounds, args.steps, args.batch) for d in args.depths]
    return 0 if all(r["cpu"] >= GOAL or r["wall"] >= GOAL for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
